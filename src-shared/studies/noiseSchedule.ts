/**
 * The noise schedule (paper §3.2, Figures 2–3): otherwise identical L_hybrid runs with the linear and the
 * cosine schedule. T = 500 at full size (the linear schedule's β range is scaled by 1000/T, as the reference
 * does, so it keeps its shape): the NLL evaluation makes T network calls per checkpoint.
 */
import type { StudyDefinition } from './definition';
import { FULL_BASE, FULL_CALL_SECONDS_16, FULL_STEP_SECONDS, minutesOf, QUICK_BASE, QUICK_STEP_SECONDS, TINY_BASE } from './networks';

/*
 * Full size, expected duration on the busy machine: 2 runs × 1000 steps × 1.3 s/step = 2600 s (43 min) of
 * training (no noise-scale estimates); the NLL phase: 2 checkpoints × 2 runs × (500 calls on 8 images ≈
 * 0.6 × 0.29 s ≈ 0.17 s each ≈ 87 s) ≈ 6 min; the quality phase: 4 skip fractions × 2 runs × (≤ 50 steps on
 * 64 images ≈ 50 × 4 × 0.29 s ≈ 58 s) ≈ 8 min, plus the classifier's first training (~3 min); start-ups and
 * previews ≈ 1 min per run. Total ≈ 43 + 6 + 8 + 3 + 2 = 62 min.
 */
const FULL_STEPS = 1000;
const FULL_EXTRA_SECONDS = 4 * 500 * 0.17 + 8 * 58 + 180 + 2 * 60;
/* Quick: 16 px, T = 200, 300 steps: 2 × 300 × 0.32 s = 192 s; NLL 2 × 2 × ~10 s; quality 4 × 2 × ~10 s; classifier ~3 min. */
const QUICK_STEPS = 300;

export const NOISE_SCHEDULE: StudyDefinition = {
  kind: 'noise-schedule',
  title: 'Linear vs cosine noise schedule',
  description:
    'Two L_hybrid runs that differ only in the β schedule: NLL over training, the per-t VLB terms of each (Figure 2), ' +
    'and sample quality when the first part of the reverse process is skipped (Figure 3).',
  claims: [
    {
      id: 'cosine-better-nll',
      figure: 'Table 2',
      statement: 'the cosine schedule improves log-likelihood over the linear schedule (§3.2, Table 2 ablations)',
      test: 'NLL (bits/dim, the full bound) of the cosine vs the linear run at each common checkpoint',
    },
    {
      id: 'linear-end-contributes-little',
      figure: 'Figure 2',
      statement: 'the end of the forward noising process is too noisy, and so doesn’t contribute very much (§3.2); the first few terms contribute most to NLL (Figure 2)',
      test: 'the share of the linear run’s VLB (terms over t) carried by the last 20% of t, at its last evaluation',
    },
    {
      id: 'linear-skip-robust',
      figure: 'Figure 3',
      statement: 'a model trained with the linear schedule does not get much worse (as measured by FID) when we skip up to 20% of the reverse diffusion process (§3.2)',
      test: 'FID (studio classifier features) of the linear run when the first 20% of the reverse process is skipped vs not skipped, beside the cosine run’s',
    },
  ],
  runs: [
    { key: 'linear', label: 'linear schedule', differs: 'noiseSchedule = linear', patch: { diffusion: { noiseSchedule: 'linear' } } },
    { key: 'cosine', label: 'cosine schedule', differs: 'noiseSchedule = cosine', patch: { diffusion: { noiseSchedule: 'cosine' } } },
  ],
  sizes: {
    tiny: {
      size: 'tiny',
      base: { ...TINY_BASE, diffusion: { ...TINY_BASE.diffusion, steps: 20 }, intervals: { ...TINY_BASE.intervals, checkpointEvery: 5, evalEvery: 5, gnsEvery: 0, previewEvery: 10 } },
      steps: 10,
      expectedMinutes: 1,
      description: '16 px MNIST, C=32, T=20, batch 4, 10 steps per run (seconds)',
      evaluation: { nllImages: 4, quality: { count: 8, skipFractions: [0, 0.2, 0.4], skipSteps: 10 } },
    },
    quick: {
      size: 'quick',
      base: { ...QUICK_BASE, diffusion: { ...QUICK_BASE.diffusion, steps: 200 }, intervals: { ...QUICK_BASE.intervals, checkpointEvery: 150, evalEvery: 150, gnsEvery: 0, previewEvery: 300 } },
      steps: QUICK_STEPS,
      expectedMinutes: minutesOf(2, QUICK_STEPS, QUICK_STEP_SECONDS, 40 + 80 + 180 + 30),
      description: `16 px MNIST, C=32, T=200, batch 16, ${QUICK_STEPS} steps per run`,
      evaluation: { nllImages: 8, quality: { count: 64, skipFractions: [0, 0.1, 0.2, 0.4], skipSteps: 25 } },
    },
    full: {
      size: 'full',
      base: { ...FULL_BASE, diffusion: { ...FULL_BASE.diffusion, steps: 500 }, intervals: { ...FULL_BASE.intervals, checkpointEvery: 500, evalEvery: 250, gnsEvery: 0, previewEvery: 1000 } },
      steps: FULL_STEPS,
      expectedMinutes: minutesOf(2, FULL_STEPS, FULL_STEP_SECONDS, FULL_EXTRA_SECONDS),
      description: `32 px MNIST, C=32 (mult 1,2,2), T=500, batch 16, ${FULL_STEPS} steps per run`,
      evaluation: { nllImages: 8, quality: { count: 64, skipFractions: [0, 0.1, 0.2, 0.4], skipSteps: 50 } },
    },
  },
};
