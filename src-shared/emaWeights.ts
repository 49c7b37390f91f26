/**
 * How much of the random initial weights an EMA still holds, and which weights sampling, evaluation and
 * previews use by default. An EMA starts as a copy of the initial weights and after each step keeps a
 * fraction r_k of itself, so after n steps the initial weights' share is Π_{k<n} r_k: 0.995^200 = 37%, which
 * samples pure noise while the raw weights already draw strokes.
 *
 * The warm-up (as in well-known EMA implementations) uses the rate min(r, (1+k)/(10+k)) at step k: the EMA
 * follows the raw weights closely at first and settles to r as training goes on; after 10 steps the
 * initial share is below 10⁻⁵.
 */

/** The EMA rate applied at (zero-based) step `step`. */
export function effectiveEmaRate(rate: number, step: number, warmup: boolean): number {
  return warmup ? Math.min(rate, (1 + step) / (10 + step)) : rate;
}

/**
 * Share of the initial weights in an EMA after `steps` steps: the product of the effective rates. A step
 * skipped for a non-finite loss leaves the EMA as it was, so after such steps the true share is a little
 * higher than this; the trainer counts them as steps because the warm-up rate follows the step number.
 */
export function initialWeightShare(rate: number, steps: number, warmup: boolean): number {
  if (!(steps > 0)) return 1;
  if (!warmup) return rate ** steps;
  // While (1+k)/(10+k) < r the warm-up rate applies; afterwards r itself. Sum logs: the product underflows.
  let log = 0;
  let k = 0;
  for (; k < steps && (1 + k) / (10 + k) < rate; k++) log += Math.log((1 + k) / (10 + k));
  log += (steps - k) * Math.log(rate);
  return Math.exp(log);
}

/** Above this share of initial weights, sampling and evaluation default to the raw weights. */
export const RAW_WEIGHTS_ABOVE_SHARE = 0.1;

export interface WeightsChoice {
  /** EMA rate used, or null for the raw weights. */
  emaRate: number | null;
  /** Share of the initial weights in the EMA considered (the first), or null without one. */
  initialShare: number | null;
  /** One line: which weights and why. */
  reason: string;
}

/** A share as people read it: "37%", "0.7%", "<0.1%". */
export function formatShare(share: number): string {
  return share >= 0.001 ? `${(share * 100).toFixed(share >= 0.1 ? 0 : 1)}%` : '<0.1%';
}
const pct = formatShare;

/**
 * The default weights of a checkpoint at `step`: the first EMA, unless it still holds more than
 * RAW_WEIGHTS_ABOVE_SHARE of the initial (random) weights; then the raw weights.
 */
export function defaultWeights(emaRates: readonly number[], step: number, warmup: boolean): WeightsChoice {
  const rate = emaRates[0];
  if (rate === undefined) return { emaRate: null, initialShare: null, reason: 'raw weights (the run keeps no EMA)' };
  const share = initialWeightShare(rate, step, warmup);
  if (share > RAW_WEIGHTS_ABOVE_SHARE) {
    return {
      emaRate: null,
      initialShare: share,
      reason: `raw weights: the EMA ${rate} still holds ${pct(share)} of the random initial weights at step ${step} (above ${pct(RAW_WEIGHTS_ABOVE_SHARE)})`,
    };
  }
  return { emaRate: rate, initialShare: share, reason: `EMA ${rate} (holds ${pct(share)} of the initial weights at step ${step})` };
}

/** Which weights were asked for explicitly, with the EMA's initial share when it is one. */
export function chosenWeights(emaRate: number | null, step: number, warmup: boolean): WeightsChoice {
  if (emaRate === null) return { emaRate: null, initialShare: null, reason: 'raw weights (as asked)' };
  const share = initialWeightShare(emaRate, step, warmup);
  const warn = share > RAW_WEIGHTS_ABOVE_SHARE ? `; it still holds ${pct(share)} of the random initial weights at step ${step}: the raw weights may sample better` : ` (holds ${pct(share)} of the initial weights at step ${step})`;
  return { emaRate, initialShare: share, reason: `EMA ${emaRate} as asked${warn}` };
}
