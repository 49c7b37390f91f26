/**
 * Every float64 array a Gaussian diffusion derives from its β (SPEC §1), named as in the reference so that
 * golden values map one to one. Pure TypeScript: the New Run form plots ᾱ_t from here without tfjs.
 */

export interface ProcessArrays {
  readonly numSteps: number;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  readonly alphasCumprod: Float64Array;
  /** ᾱ_{t−1}, with ᾱ_{−1} = 1. */
  readonly alphasCumprodPrev: Float64Array;
  /** ᾱ_{t+1}, with ᾱ_T = 0. */
  readonly alphasCumprodNext: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  readonly logOneMinusAlphasCumprod: Float64Array;
  readonly sqrtRecipAlphasCumprod: Float64Array;
  readonly sqrtRecipm1AlphasCumprod: Float64Array;
  /** β̃_t = β_t(1−ᾱ_{t−1})/(1−ᾱ_t); β̃_0 = 0. */
  readonly posteriorVariance: Float64Array;
  /** log β̃_t with entry 0 replaced by β̃_1 (β̃_0 = 0 has no log). */
  readonly posteriorLogVarianceClipped: Float64Array;
  readonly posteriorMeanCoef1: Float64Array;
  readonly posteriorMeanCoef2: Float64Array;
  /** log β_t: the upper end of the learned_range interpolation. */
  readonly logBetas: Float64Array;
  /** The fixed_large variance [β̃_1, β_1, …, β_{T−1}] and its log. */
  readonly fixedLargeVariance: Float64Array;
  readonly fixedLargeLogVariance: Float64Array;
}

function map(a: Float64Array, f: (v: number, i: number) => number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i], i);
  return out;
}

/** Checks β and derives all arrays, in the reference's order of float64 operations. */
export function deriveProcessArrays(betasIn: ArrayLike<number>): ProcessArrays {
  const betas = Float64Array.from(betasIn);
  const n = betas.length;
  if (n < 2) throw new Error(`a diffusion needs at least 2 steps, got ${n}`);
  for (let i = 0; i < n; i++) {
    if (!(betas[i] > 0 && betas[i] <= 1)) {
      throw new Error(`beta[${i}] = ${betas[i]} is outside (0, 1]`);
    }
  }
  const alphas = map(betas, (b) => 1 - b);
  const alphasCumprod = new Float64Array(n);
  let running = 1;
  for (let i = 0; i < n; i++) {
    running = i === 0 ? alphas[0] : running * alphas[i];
    alphasCumprod[i] = running;
  }
  const alphasCumprodPrev = map(alphasCumprod, (_, i) => (i === 0 ? 1 : alphasCumprod[i - 1]));
  const alphasCumprodNext = map(alphasCumprod, (_, i) => (i === n - 1 ? 0 : alphasCumprod[i + 1]));
  const posteriorVariance = map(
    betas,
    (b, i) => (b * (1 - alphasCumprodPrev[i])) / (1 - alphasCumprod[i]),
  );
  const fixedLargeVariance = map(betas, (b, i) => (i === 0 ? posteriorVariance[1] : b));
  return {
    numSteps: n,
    betas,
    alphas,
    alphasCumprod,
    alphasCumprodPrev,
    alphasCumprodNext,
    sqrtAlphasCumprod: map(alphasCumprod, Math.sqrt),
    sqrtOneMinusAlphasCumprod: map(alphasCumprod, (a) => Math.sqrt(1 - a)),
    logOneMinusAlphasCumprod: map(alphasCumprod, (a) => Math.log(1 - a)),
    sqrtRecipAlphasCumprod: map(alphasCumprod, (a) => Math.sqrt(1 / a)),
    sqrtRecipm1AlphasCumprod: map(alphasCumprod, (a) => Math.sqrt(1 / a - 1)),
    posteriorVariance,
    posteriorLogVarianceClipped: map(posteriorVariance, (v, i) =>
      Math.log(i === 0 ? posteriorVariance[1] : v),
    ),
    posteriorMeanCoef1: map(
      betas,
      (b, i) => (b * Math.sqrt(alphasCumprodPrev[i])) / (1 - alphasCumprod[i]),
    ),
    posteriorMeanCoef2: map(
      alphas,
      (a, i) => ((1 - alphasCumprodPrev[i]) * Math.sqrt(a)) / (1 - alphasCumprod[i]),
    ),
    logBetas: map(betas, Math.log),
    fixedLargeVariance,
    fixedLargeLogVariance: map(fixedLargeVariance, Math.log),
  };
}
