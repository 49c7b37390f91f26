/**
 * Importance sampling of t for L_vlb (paper §3.3, Figures 6–7): L_vlb with uniform t, L_vlb with the
 * loss-second-moment sampler, and L_hybrid as the third run.
 *
 * T is small here (100, not the paper's 4000) because the sampler draws t uniformly until every t has 10
 * losses: the least-drawn of T steps reaches 10 draws after about 22·T draws, i.e. ~140 steps at batch 16 and
 * T = 100 but ~1700 at T = 1000, which would leave the sampler uniform for most of an hour's run. The report
 * says from which step it sampled by importance, and compares the samplers only after it.
 */
import type { StudyDefinition } from './definition';
import { FULL_BASE, FULL_CALL_SECONDS_16, FULL_STEP_SECONDS, minutesOf, QUICK_BASE, QUICK_STEP_SECONDS, TINY_BASE } from './networks';

/*
 * Full size, expected duration on the busy machine: 3 runs × 800 steps × 1.3 s/step = 3120 s (52 min) of
 * training; the NLL phase: 4 checkpoints × 3 runs × (T = 100 calls on 16 images × 0.29 s ≈ 29 s) ≈ 6 min;
 * per-t VLB snapshots (4 per run, 50 calls ≈ 15 s each), one preview and ~10 s of worker start-up per run
 * ≈ 1 min per run. Total ≈ 52 + 6 + 3 = 61 min (≈ 25 min on a quiet machine at 0.5 s/step).
 */
const FULL_STEPS = 800;
const FULL_MINUTES = minutesOf(3, FULL_STEPS, FULL_STEP_SECONDS, 12 * 100 * FULL_CALL_SECONDS_16 + 3 * 60);
/*
 * Quick: 16 px, T = 50 (the sampler leaves uniform after ~70 steps), 300 steps: 3 × 300 × 0.32 s = 288 s,
 * plus NLL at 2 checkpoints × 3 runs (~5 s each) and start-ups (~15 s per run) ≈ 6 min.
 */
const QUICK_STEPS = 300;

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
      statement: 'the resulting importance sampled objective is considerably less noisy than the original, uniformly sampled objective (§3.3)',
      test: "the loss curve's noise (robust spread of log-loss around its running median, once the sampler is active) of L_vlb with importance sampling vs uniform t",
    },
    {
      id: 'is-better-nll',
      figure: 'Figure 6',
      statement: 'this importance sampling technique allows us to achieve our best log-likelihoods when optimizing L_vlb directly (§3.3)',
      test: 'NLL (bits/dim, the full bound) at each common checkpoint of L_vlb with importance sampling vs uniform t',
    },
    {
      id: 'vlb-noisier-gradients',
      figure: 'Figure 7',
      statement: 'We hypothesized that the gradient of L_vlb was much noisier than that of L_hybrid (§3.3)',
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
        diffusion: { ...QUICK_BASE.diffusion, steps: 50 },
        intervals: { ...QUICK_BASE.intervals, checkpointEvery: 150, evalEvery: 150, gnsEvery: 10, previewEvery: 300 },
      },
      steps: QUICK_STEPS,
      expectedMinutes: minutesOf(3, QUICK_STEPS, QUICK_STEP_SECONDS, 6 * 5 + 3 * 15),
      description: `16 px MNIST, C=32, T=50, batch 16, ${QUICK_STEPS} steps per run`,
      evaluation: { nllImages: 16 },
    },
    full: {
      size: 'full',
      base: {
        ...FULL_BASE,
        diffusion: { ...FULL_BASE.diffusion, steps: 100 },
        intervals: { ...FULL_BASE.intervals, checkpointEvery: 200, evalEvery: 200, gnsEvery: 20, previewEvery: 800 },
      },
      steps: FULL_STEPS,
      expectedMinutes: FULL_MINUTES,
      description: `32 px MNIST, C=32 (mult 1,2,2), T=100, batch 16, ${FULL_STEPS} steps per run`,
      evaluation: { nllImages: 16 },
    },
  },
};
