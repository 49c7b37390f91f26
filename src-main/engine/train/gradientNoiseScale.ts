/**
 * The simple gradient noise scale B_simple = tr(Σ)/|G|² (McCandlish et al. 2018, appendix A; paper
 * Figure 7), from the squared norms of small-batch and big-batch gradients of the same step.
 *
 * For a batch of b examples drawn independently, E|G_b|² = |G|² + tr(Σ)/b, where G is the expected
 * per-example gradient and Σ the per-example gradient covariance. Two batch sizes give two equations and
 * hence unbiased estimates of |G|² and tr(Σ) (test/train/gradientNoiseScale.exact.test.ts checks this
 * against per-example gradients computed one backward pass at a time).
 *
 * Both estimates are noisy, so their numerator and denominator are smoothed separately and the ratio of
 * the averages is reported. The smoothing is defined in training steps, not in estimates: two runs that
 * differ only in how often they estimate average over the same stretch of training and so report the
 * same quantity (an estimate every 10 steps or every 100 steps, the same value at step 1000).
 */
import { GNS_SMOOTHING_STEPS } from '../../../src-shared/gradientNoiseScale';

export interface GnsSample {
  /** Unbiased estimate of |G|² for this step. */
  gradSq: number;
  /** Unbiased estimate of tr(Σ) for this step. */
  traceSigma: number;
  /** tr(Σ)/|G|² of this step alone (very noisy; may be negative or huge). */
  bSimpleRaw: number;
  /** Ratio of the smoothed estimates: the number to plot. */
  bSimple: number;
}

export interface GnsState {
  /** Weighted average of the |G|² estimates so far (weights decay with the steps since each). */
  gradSqEma: number | null;
  /** Weighted average of the tr(Σ) estimates so far. */
  traceEma: number | null;
  /** Sum of the weights behind the averages (absent in checkpoints written before this field). */
  weight?: number;
  /** Training step of the newest estimate in the averages. */
  step?: number;
}


/**
 * The small-batch side of the estimator from the chunks a step's batch was split into. Chunks of unequal
 * size (an odd batch, or a microbatch that does not divide it) have E[mean_i |G_i|²] = |G|² + tr(Σ)·mean_i(1/b_i),
 * so the small batch size that keeps the estimates unbiased is the harmonic mean of the chunk sizes, not
 * the nominal microbatch.
 */
export function smallBatchStats(chunks: readonly { sqNorm: number; size: number }[]): { meanSqNorm: number; bSmall: number } {
  if (chunks.length === 0) throw new Error('gradient noise scale needs at least one small batch');
  let sq = 0;
  let inv = 0;
  for (const c of chunks) {
    if (!(c.size >= 1)) throw new Error(`a small batch of ${c.size} examples cannot give a gradient`);
    sq += c.sqNorm;
    inv += 1 / c.size;
  }
  return { meanSqNorm: sq / chunks.length, bSmall: chunks.length / inv };
}

/**
 * @param smallSqNorm mean over the small batches of |G_small|²
 * @param bSmall their size (the harmonic mean when they differ: see smallBatchStats)
 * @param bigSqNorm |G_big|² of the whole batch's mean gradient
 */
export function gnsEstimates(smallSqNorm: number, bSmall: number, bigSqNorm: number, bBig: number) {
  if (!(bBig > bSmall && bSmall >= 1)) throw new Error(`gradient noise scale needs B_big > B_small ≥ 1 (got ${bBig}, ${bSmall})`);
  const gradSq = (bBig * bigSqNorm - bSmall * smallSqNorm) / (bBig - bSmall);
  const traceSigma = (smallSqNorm - bigSqNorm) / (1 / bSmall - 1 / bBig);
  return { gradSq, traceSigma };
}

export class GradientNoiseScale {
  private state: GnsState = { gradSqEma: null, traceEma: null };

  constructor(readonly smoothingSteps = GNS_SMOOTHING_STEPS) {}

  /** Adds the estimate made at training step `step`. */
  add(step: number, smallSqNorm: number, bSmall: number, bigSqNorm: number, bBig: number): GnsSample {
    const { gradSq, traceSigma } = gnsEstimates(smallSqNorm, bSmall, bigSqNorm, bBig);
    const s = this.state;
    // Weights normalised (as a bias-corrected EMA): the first estimate is not over-weighted. An
    // initialised-with-the-first-value EMA let the early, huge |G|² of step gnsEvery dominate for
    // ~1/(1−decay) estimates, i.e. for a number of steps proportional to the interval.
    const prevWeight = s.gradSqEma === null || s.traceEma === null ? 0 : (s.weight ?? 1) * Math.exp(-Math.max(0, step - (s.step ?? step)) / this.smoothingSteps);
    const weight = prevWeight + 1;
    const avg = (prev: number | null, x: number) => ((prev ?? 0) * prevWeight + x) / weight;
    this.state = { gradSqEma: avg(s.gradSqEma, gradSq), traceEma: avg(s.traceEma, traceSigma), weight, step };
    return { gradSq, traceSigma, bSimpleRaw: traceSigma / gradSq, bSimple: this.state.traceEma! / this.state.gradSqEma! };
  }

  snapshot(): GnsState {
    return { ...this.state };
  }

  restore(state: GnsState): void {
    this.state = { ...state };
  }
}
