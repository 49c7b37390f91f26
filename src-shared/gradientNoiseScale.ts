/**
 * What the gradient noise scale chart shows, computed from a run's config: the batch sizes the estimator
 * compares and the smoothing. Shared by the trainer (which splits the batch) and the renderer (which
 * captions the chart), so the caption states what the run really did.
 */
import type { TrainingConfig, RunConfig } from './config/runConfig';

/**
 * Time constant, in training steps, of the smoothing: an estimate made k steps ago weighs e^(−k/τ) as much
 * as one made now. Defined in steps, not in estimates, so runs that estimate at different intervals report
 * the same quantity; 500 steps averages several estimates at the quick presets' interval (100) and is short
 * next to the paper's runs (hundreds of thousands of steps), whose B_simple drifts slowly.
 */
export const GNS_SMOOTHING_STEPS = 500;

/** Examples per gradient chunk of a step: the microbatch, or half the batch on noise-scale steps without one. */
export function chunkSize(training: Pick<TrainingConfig, 'batchSize' | 'microbatch'>, gnsStep: boolean): number {
  const B = training.batchSize;
  const micro = training.microbatch > 0 && training.microbatch < B ? training.microbatch : B;
  return gnsStep && micro === B ? Math.ceil(B / 2) : micro;
}

/**
 * The two batch sizes of a noise-scale estimate: B_big is the whole batch; B_small the chunks it is split
 * into, as their harmonic mean when the last chunk is shorter (that keeps the estimates unbiased).
 */
export function gnsBatchSizes(training: Pick<TrainingConfig, 'batchSize' | 'microbatch'>): { bSmall: number; bBig: number; chunks: number[] } {
  const B = training.batchSize;
  const micro = chunkSize(training, true);
  const chunks: number[] = [];
  for (let start = 0; start < B; start += micro) chunks.push(Math.min(micro, B - start));
  return { bSmall: chunks.length / chunks.reduce((s, b) => s + 1 / b, 0), bBig: B, chunks };
}

/** One paragraph for the chart: what B_simple is, the batch sizes this run used, the smoothing. */
export function gnsCaption(config: Pick<RunConfig, 'training' | 'intervals'>): string {
  const every = config.intervals.gnsEvery;
  if (!(every > 0) || config.training.batchSize < 2) return 'The gradient noise scale is off for this run (it needs an interval and a batch of at least 2).';
  const { bSmall, bBig, chunks } = gnsBatchSizes(config.training);
  const small = chunks.every((c) => c === chunks[0])
    ? `${chunks.length} chunks of ${chunks[0]}`
    : `chunks of ${chunks.join(', ')} (harmonic mean ${Number(bSmall.toFixed(2))})`;
  return (
    'B_simple = tr(Σ)/|G|² (McCandlish et al. 2018): the batch size at which the gradient’s noise equals its signal; ' +
    'batches much smaller than it waste steps on noise, much larger ones waste examples. ' +
    `Estimated every ${every} steps by comparing the squared norm of the whole batch’s gradient (B_big = ${bBig}) with ` +
    `that of its ${small} (B_small = ${Number(bSmall.toFixed(2))}). ` +
    `Plotted: the ratio of the averaged tr(Σ) and |G|² estimates, an estimate k steps old weighing e^(−k/${GNS_SMOOTHING_STEPS}).`
  );
}
