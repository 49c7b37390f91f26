/**
 * Importance sampling of t for L_vlb (paper §3.3, Figures 6–7): L_vlb with uniform t, L_vlb with the
 * loss-second-moment sampler, and L_hybrid as the third run.
 *
 * T is small here (200 at full size, not the paper's 4000) because the sampler draws t uniformly until every
 * t has 10 losses: at batch 16 that takes ~25·T/16 steps (the least-drawn of T steps reaches 10 draws after
 * about 24·T draws), i.e. ~300 steps at T = 200 but ~1700 at T = 1000, which would leave the sampler uniform
 * for most of an hour's run. The report says from which step it sampled by importance.
 */
import type { StudyDefinition } from './definition';
import { FULL_BASE, FULL_STEP_SECONDS, minutesOf, QUICK_BASE, TINY_BASE } from './networks';

/*
 * Full size, expected duration: 3 runs × 1800 steps × 0.5 s/step = 2700 s (45 min) of training, plus per run
 * 4 per-t VLB snapshots (50 t × 16 images ≈ 10 s each), 2 previews and ~10 s of worker start-up (≈ 1 min
 * per run), plus the NLL phase: 4 checkpoints × 3 runs × (200 t × 16 images ≈ 200 forward passes of 16 ≈
 * 35 s) ≈ 7 min. Total ≈ 45 + 3 + 7 = 55 min.
 */
const FULL_STEPS = 1800;
const FULL_MINUTES = minutesOf(3, FULL_STEPS, FULL_STEP_SECONDS, 3 * 60 + 12 * 35);
/*
 * Quick: 16 px (about a quarter of the full step's work; ~0.15 s/step measured here), T = 100 (the sampler
 * warms up after ~150 steps), 400 steps: 3 × 400 × 0.15 = 180 s, plus NLL at 2 checkpoints × 3 runs
 * (~10 s each) and start-ups ≈ 5 min.
 */
const QUICK_STEPS = 400;
const QUICK_STEP_SECONDS = 0.15;

export const IMPORTANCE_SAMPLING: StudyDefinition = {
  kind: 'importance-sampling',
  title: 'Importance sampling of t for L_vlb',
  description:
    'L_vlb with t drawn uniformly vs with the loss-second-moment sampler (p_t ∝ √E[L_t²]), and L_hybrid as a third run: ' +
    'the loss curves, NLL over training and the gradient noise scale of each.',
  claims: [
    {
      id: 'is-less-noisy',
      figure: 'Figure 6',
      quote: 'the resulting importance sampled objective is considerably less noisy than the original, uniformly sampled objective (§3.3)',
      test: "the loss curve's noise (robust spread of log-loss around its running median, once the sampler is active) of L_vlb with importance sampling vs uniform t",
    },
    {
      id: 'is-better-nll',
      figure: 'Figure 6',
      quote: 'this importance sampling technique allows us to achieve our best log-likelihoods when optimizing L_vlb directly (§3.3)',
      test: 'NLL (bits/dim, the full bound) at each common checkpoint of L_vlb with importance sampling vs uniform t',
    },
    {
      id: 'vlb-noisier-gradients',
      figure: 'Figure 7',
      quote: 'We hypothesized that the gradient of L_vlb was much noisier than that of L_hybrid (§3.3)',
      test: 'the gradient noise scale B_simple of uniform L_vlb vs L_hybrid at each common estimate',
    },
  ],
  runs: [
    {
      key: 'vlb-uniform',
      label: 'L_vlb, uniform t',
      differs: 'objective = vlb, timestepSampler = uniform',
      patch: { diffusion: { objective: 'vlb', varianceType: 'learned_range' }, training: { timestepSampler: 'uniform' } },
    },
    {
      key: 'vlb-importance',
      label: 'L_vlb, importance-sampled t',
      differs: 'objective = vlb, timestepSampler = loss-second-moment',
      patch: { diffusion: { objective: 'vlb', varianceType: 'learned_range' }, training: { timestepSampler: 'loss-second-moment' } },
    },
    {
      key: 'hybrid',
      label: 'L_hybrid, uniform t',
      differs: 'objective = hybrid, timestepSampler = uniform',
      patch: { diffusion: { objective: 'hybrid', varianceType: 'learned_range' }, training: { timestepSampler: 'uniform' } },
    },
  ],
  sizes: {
    tiny: {
      size: 'tiny',
      base: { ...TINY_BASE, diffusion: { ...TINY_BASE.diffusion, steps: 20 }, intervals: { ...TINY_BASE.intervals, checkpointEvery: 6, evalEvery: 6, gnsEvery: 2, previewEvery: 12 } },
      steps: 12,
      expectedMinutes: 1,
      description: '16 px MNIST, C=32, T=20, batch 4, 12 steps per run (seconds; the sampler stays uniform this short)',
      evaluation: { nllImages: 4 },
    },
    quick: {
      size: 'quick',
      base: {
        ...QUICK_BASE,
        diffusion: { ...QUICK_BASE.diffusion, steps: 100 },
        intervals: { ...QUICK_BASE.intervals, checkpointEvery: 200, evalEvery: 200, gnsEvery: 10, previewEvery: 400 },
      },
      steps: QUICK_STEPS,
      expectedMinutes: minutesOf(3, QUICK_STEPS, QUICK_STEP_SECONDS, 6 * 10 + 3 * 15),
      description: `16 px MNIST, C=32, T=100, batch 16, ${QUICK_STEPS} steps per run`,
      evaluation: { nllImages: 16 },
    },
    full: {
      size: 'full',
      base: {
        ...FULL_BASE,
        diffusion: { ...FULL_BASE.diffusion, steps: 200 },
        intervals: { ...FULL_BASE.intervals, checkpointEvery: 450, evalEvery: 450, gnsEvery: 20, previewEvery: 900 },
      },
      steps: FULL_STEPS,
      expectedMinutes: FULL_MINUTES,
      description: `32 px MNIST, C=32 (mult 1,2,2), T=200, batch 16, ${FULL_STEPS} steps per run`,
      evaluation: { nllImages: 16 },
    },
  },
};
