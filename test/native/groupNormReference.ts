/**
 * GroupNorm (+ ·(1 + scale) + shift) (+ SiLU) and its gradients in float64, straight from the definition with
 * centred data (two passes, x − μ before any product), for precision tests of the native kernels. NHWC as
 * [B, HW, C]; scale/shift are [B, C]. Not a test file itself.
 */

export interface GroupNormProblem {
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  scale?: Float32Array;
  shift?: Float32Array;
  B: number;
  HW: number;
  C: number;
  G: number;
  eps: number;
  silu: boolean;
}

export interface GroupNormReference {
  y: Float64Array;
  mean: Float64Array;
  rstd: Float64Array;
}

export interface GroupNormGradients {
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
  dscale?: Float64Array;
  dshift?: Float64Array;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** x̂ = (x − μ)·r per element, with μ and r per (image, group). */
function normalise(p: GroupNormProblem): { xhat: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const { x, B, HW, C, G, eps } = p;
  const cg = C / G;
  const n = HW * cg;
  const mean = new Float64Array(B * G);
  const rstd = new Float64Array(B * G);
  const xhat = new Float64Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < G; g++) {
      let s = 0;
      for (let i = 0; i < HW; i++) for (let j = 0; j < cg; j++) s += x[(b * HW + i) * C + g * cg + j];
      const mu = s / n;
      let v = 0;
      for (let i = 0; i < HW; i++) for (let j = 0; j < cg; j++) v += (x[(b * HW + i) * C + g * cg + j] - mu) ** 2;
      const r = 1 / Math.sqrt(v / n + eps);
      mean[b * G + g] = mu;
      rstd[b * G + g] = r;
      for (let i = 0; i < HW; i++) {
        for (let j = 0; j < cg; j++) {
          const o = (b * HW + i) * C + g * cg + j;
          xhat[o] = (x[o] - mu) * r;
        }
      }
    }
  }
  return { xhat, mean, rstd };
}

/** The pre-activation z = (x̂γ + β)(1 + s) + t of every element. */
function preActivation(p: GroupNormProblem, xhat: Float64Array): Float64Array {
  const { gamma, beta, scale, shift, B, HW, C } = p;
  const z = new Float64Array(xhat.length);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < HW; i++) {
      for (let c = 0; c < C; c++) {
        const o = (b * HW + i) * C + c;
        const n = xhat[o] * gamma[c] + beta[c];
        z[o] = scale ? n * (1 + scale[b * C + c]) + shift![b * C + c] : n;
      }
    }
  }
  return z;
}

export function groupNormForward64(p: GroupNormProblem): GroupNormReference {
  const { xhat, mean, rstd } = normalise(p);
  const y = preActivation(p, xhat);
  if (p.silu) for (let o = 0; o < y.length; o++) y[o] *= sigmoid(y[o]);
  return { y, mean, rstd };
}

/** Gradients of Σ y·dy. */
export function groupNormBackward64(p: GroupNormProblem, dy: Float32Array): GroupNormGradients {
  const { gamma, beta, scale, B, HW, C, G } = p;
  const cg = C / G;
  const { xhat, rstd } = normalise(p);
  const z = preActivation(p, xhat);
  const dz = new Float64Array(z.length);
  for (let o = 0; o < z.length; o++) {
    const sg = sigmoid(z[o]);
    dz[o] = p.silu ? dy[o] * sg * (1 + z[o] * (1 - sg)) : dy[o];
  }
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  const dscale = scale ? new Float64Array(B * C) : undefined;
  const dshift = scale ? new Float64Array(B * C) : undefined;
  const dx = new Float64Array(z.length);
  const dxhat = new Float64Array(z.length);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < HW; i++) {
      for (let c = 0; c < C; c++) {
        const o = (b * HW + i) * C + c;
        const s1 = scale ? 1 + scale[b * C + c] : 1;
        if (dscale) {
          dscale[b * C + c] += dz[o] * (xhat[o] * gamma[c] + beta[c]);
          dshift![b * C + c] += dz[o];
        }
        const dn = dz[o] * s1; // gradient at n = x̂γ + β
        dgamma[c] += dn * xhat[o];
        dbeta[c] += dn;
        dxhat[o] = dn * gamma[c];
      }
    }
    // dx = r·(dx̂ − mean_grp dx̂ − x̂·mean_grp(dx̂·x̂)) per group.
    for (let g = 0; g < G; g++) {
      let m1 = 0;
      let m2 = 0;
      for (let i = 0; i < HW; i++) {
        for (let j = 0; j < cg; j++) {
          const o = (b * HW + i) * C + g * cg + j;
          m1 += dxhat[o];
          m2 += dxhat[o] * xhat[o];
        }
      }
      m1 /= HW * cg;
      m2 /= HW * cg;
      const r = rstd[b * G + g];
      for (let i = 0; i < HW; i++) {
        for (let j = 0; j < cg; j++) {
          const o = (b * HW + i) * C + g * cg + j;
          dx[o] = r * (dxhat[o] - m1 - xhat[o] * m2);
        }
      }
    }
  }
  return { dx, dgamma, dbeta, dscale, dshift };
}

/** max |actual − expected| / max |expected|: the error relative to the output's scale. */
export function normwiseError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return err / (scale || 1);
}
