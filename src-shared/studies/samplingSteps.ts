/**
 * Fewer sampling steps (paper §4, Figure 8): L_simple with a fixed Σ (β_t, as Ho et al.) vs L_hybrid with the
 * learned Σ, both on the cosine schedule; sample quality at K respaced steps.
 */
import type { StudyDefinition } from './definition';
import { FULL_BASE, FULL_CALL_SECONDS_16, FULL_STEP_SECONDS, minutesOf, QUICK_BASE, QUICK_STEP_SECONDS, TINY_BASE } from './networks';

/*
 * Full size, expected duration on the busy machine: 2 runs × 800 steps × 1.3 s/step = 2080 s (35 min) of
 * training; the quality phase samples 64 images at K = 10, 25, 50, 100 and T = 200 steps: 385 network calls
 * on 64 images (≈ 4 × 0.29 s ≈ 1.2 s each) ≈ 7.5 min per run ≈ 15 min, plus the classifier's first training
 * (~3 min); start-ups and previews ≈ 1 min per run. Total ≈ 35 + 15 + 3 + 2 = 55 min. T = 200 keeps the
 * K = T point (the costliest) inside the hour.
 */
const FULL_STEPS = 800;
const FULL_EXTRA_SECONDS = 2 * 385 * 4 * FULL_CALL_SECONDS_16 + 180 + 2 * 60;
/* Quick: 16 px, T = 100, 300 steps: 2 × 300 × 0.32 s = 192 s; quality 2 × 185 calls on 64 images (~0.3 s) ≈ 2 min; classifier ~3 min. */
const QUICK_STEPS = 300;

export const SAMPLING_STEPS: StudyDefinition = {
  kind: 'sampling-steps',
  title: 'Fewer sampling steps: learned vs fixed Σ',
  description:
    'L_simple with fixed Σ = β_t vs L_hybrid with learned Σ (cosine schedule for both): sample quality at K = 10, 25, 50, 100 and T ' +
    'respaced ancestral steps (Figure 8).',
  claims: [
    {
      id: 'learned-sigma-few-steps',
      figure: 'Figure 8',
      statement: 'our L_hybrid models with learned sigmas maintain high sample quality ... with far fewer sampling steps, while the L_simple models with fixed sigmas degrade (§4)',
      test: 'FID (studio classifier features) of the L_hybrid/learned-Σ run below the L_simple/fixed-Σ run at K = 25 and K = 50',
    },
    {
      id: 'learned-sigma-holds-quality',
      figure: 'Figure 8',
      statement: 'With this model, 100 sampling steps is sufficient to achieve near-optimal FIDs (§4)',
      test: 'how much the L_hybrid run’s FID at K = 50 rises over its FID at K = T, compared with the L_simple run’s rise',
    },
  ],
  runs: [
    {
      key: 'simple-fixed',
      label: 'L_simple, fixed Σ (β)',
      differs: 'objective = simple, varianceType = fixed_large',
      patch: { diffusion: { objective: 'simple', varianceType: 'fixed_large' } },
    },
    {
      key: 'hybrid-learned',
      label: 'L_hybrid, learned Σ',
      differs: 'objective = hybrid, varianceType = learned_range',
      patch: { diffusion: { objective: 'hybrid', varianceType: 'learned_range' } },
    },
  ],
  sizes: {
    tiny: {
      size: 'tiny',
      base: { ...TINY_BASE, diffusion: { ...TINY_BASE.diffusion, steps: 20 }, intervals: { ...TINY_BASE.intervals, checkpointEvery: 5, evalEvery: 5, gnsEvery: 0, previewEvery: 10 } },
      steps: 10,
      expectedMinutes: 1,
      description: '16 px MNIST, C=32, T=20, batch 4, 10 steps per run (seconds)',
      evaluation: { quality: { count: 8, steps: [5, 10, 20] } },
    },
    quick: {
      size: 'quick',
      base: { ...QUICK_BASE, diffusion: { ...QUICK_BASE.diffusion, steps: 100 }, intervals: { ...QUICK_BASE.intervals, checkpointEvery: 300, evalEvery: 150, gnsEvery: 0, previewEvery: 300 } },
      steps: QUICK_STEPS,
      expectedMinutes: minutesOf(2, QUICK_STEPS, QUICK_STEP_SECONDS, 2 * 185 * 0.3 + 180 + 30),
      description: `16 px MNIST, C=32, T=100, batch 16, ${QUICK_STEPS} steps per run`,
      evaluation: { quality: { count: 64, steps: [10, 25, 50, 100] } },
    },
    full: {
      size: 'full',
      base: { ...FULL_BASE, diffusion: { ...FULL_BASE.diffusion, steps: 200 }, intervals: { ...FULL_BASE.intervals, checkpointEvery: 400, evalEvery: 400, gnsEvery: 0, previewEvery: 800 } },
      steps: FULL_STEPS,
      expectedMinutes: minutesOf(2, FULL_STEPS, FULL_STEP_SECONDS, FULL_EXTRA_SECONDS),
      description: `32 px MNIST, C=32 (mult 1,2,2), T=200, batch 16, ${FULL_STEPS} steps per run`,
      evaluation: { quality: { count: 64, steps: [10, 25, 50, 100, 200] } },
    },
  },
};
