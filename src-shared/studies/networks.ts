/**
 * The networks and data every study trains at each size: MNIST digits (bundled), a small UNet, L_hybrid's
 * usual training settings. A study's runs differ from these in the one setting the study is about.
 *
 * Step times measured here with `iddpm train` (2 shared cores, wasm + native kernels, L_vlb, T = 200, a
 * noise-scale estimate every 10–20 steps):
 *   FULL  (32 px, C=32, mult 1,2,2, attention at 16, batch 16): 0.49 s/step over 40 steps at load 1.5, but
 *         1.30 s/step over 60 steps at load 6–8 (other engineers' tests and a long training run);
 *   QUICK (16 px, C=32, mult 1,2, attention at 8, batch 16): 0.32 s/step over 60 steps at load 7–8;
 *   NLL evaluation (`iddpm eval`, 32 px, T = 200, 16 images): 200 calls in 58 s (0.29 s/call) at load 5.5.
 * The studies are sized for the busy machine (the lead runs them while others work), so they finish sooner
 * on a quiet one; the expected durations are computed from these numbers in each study's file.
 */
import type { RunConfigPatch } from '../config/runConfig';

/** Seconds per training step of the FULL network at batch 16 on this machine, busy (measured, see above). */
export const FULL_STEP_SECONDS = 1.3;
/** Seconds per training step of the QUICK network at batch 16 on this machine, busy (measured, see above). */
export const QUICK_STEP_SECONDS = 0.32;
/** Seconds per network call on 16 images of the FULL network, busy (an NLL evaluation makes T of them). */
export const FULL_CALL_SECONDS_16 = 0.29;

/** mnist-quick's network: 28 px digits padded to 32, three levels (32, 16, 8), attention at 16. */
export const FULL_BASE: RunConfigPatch = {
  dataset: { kind: 'mnist' },
  model: { imageSize: 32, imageChannels: 1, channels: 32, numResBlocks: 1, channelMult: [1, 2, 2], attentionResolutions: [16], numHeads: 4, dropout: 0 },
  diffusion: { noiseSchedule: 'cosine', objective: 'hybrid', varianceType: 'learned_range' },
  training: { timestepSampler: 'uniform', lr: 2e-4, batchSize: 16, emaRates: [0.995], emaWarmup: true, seed: 1, backend: 'auto' },
  // keepCheckpoints 0: the report evaluates every checkpoint (NLL over training).
  intervals: { previewSteps: 25, previewCount: 16, keepCheckpoints: 0 },
};

/** Half the pixels in each direction: 16 px digits, two levels (16, 8), attention at 8. */
export const QUICK_BASE: RunConfigPatch = {
  ...FULL_BASE,
  model: { imageSize: 16, imageChannels: 1, channels: 32, numResBlocks: 1, channelMult: [1, 2], attentionResolutions: [8], numHeads: 2, dropout: 0 },
};

/** tiny-test's network with a batch of 4 (the noise scale needs two halves of ≥ 2). */
export const TINY_BASE: RunConfigPatch = {
  ...QUICK_BASE,
  training: { ...FULL_BASE.training, lr: 1e-3, batchSize: 4, emaRates: [0.9] },
  intervals: { previewSteps: 5, previewCount: 4, keepCheckpoints: 0 },
};

/** Minutes, rounded up, of `runs` runs of `steps` steps at `secondsPerStep`, plus `extraSeconds`. */
export function minutesOf(runs: number, steps: number, secondsPerStep: number, extraSeconds = 0): number {
  return Math.ceil((runs * steps * secondsPerStep + extraSeconds) / 60);
}
