/**
 * The simple gradient noise scale B_simple = tr(Σ)/|G|² (McCandlish et al. 2018, appendix A; paper
 * Figure 7), from the squared norms of small-batch and big-batch gradients of the same step.
 * Both estimates are noisy, so their numerator and denominator are smoothed separately and the ratio
 * of the averages is reported.
 */

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
  gradSqEma: number | null;
  traceEma: number | null;
}

/**
 * @param smallSqNorm mean over the small batches of |G_small|²
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

  constructor(readonly decay = 0.95) {}

  add(smallSqNorm: number, bSmall: number, bigSqNorm: number, bBig: number): GnsSample {
    const { gradSq, traceSigma } = gnsEstimates(smallSqNorm, bSmall, bigSqNorm, bBig);
    const ema = (prev: number | null, x: number) => (prev === null ? x : this.decay * prev + (1 - this.decay) * x);
    this.state = { gradSqEma: ema(this.state.gradSqEma, gradSq), traceEma: ema(this.state.traceEma, traceSigma) };
    return { gradSq, traceSigma, bSimpleRaw: traceSigma / gradSq, bSimple: this.state.traceEma! / this.state.gradSqEma! };
  }

  snapshot(): GnsState {
    return { ...this.state };
  }

  restore(state: GnsState): void {
    this.state = { ...state };
  }
}
