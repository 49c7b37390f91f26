/**
 * The gradient noise scale checked against the quantities it estimates. On a tiny UNet and a fixed,
 * finite population of (image, t, noise) triples, every per-example gradient is computed exactly (one
 * backward pass each), which gives the true |G|² (the squared norm of the population's mean gradient)
 * and tr(Σ) (the population's per-example gradient variance). Batches drawn independently from that
 * population then go through the estimator the trainer uses (smallBatchStats + gnsEstimates); the mean
 * of its estimates over many seeded draws must lie within a few standard errors of the exact values.
 *
 * Squared norms of batch means come from the Gram matrix K_ij = g_i·g_j (|mean_S g|² = Σ_{i,j∈S} K_ij / |S|²),
 * which is exact algebra and makes 100 000 draws cheap.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { diffusionFromConfig } from '../../src-main/engine/diffusion/fromConfig';
import { trainingLosses } from '../../src-main/engine/diffusion/losses';
import { Rng } from '../../src-main/engine/rng';
import { flatLayout, flatten, unflatten } from '../../src-main/engine/train/flatParams';
import { GradientNoiseScale, gnsEstimates, smallBatchStats } from '../../src-main/engine/train/gradientNoiseScale';
import type { TrainEvent } from '../../src-main/engine/train/events';
import { Trainer } from '../../src-main/engine/train/trainer';
import { buildLayout } from '../../src-main/engine/unet/layout';
import { unetForward } from '../../src-main/engine/unet/forward';
import { unetSpecFromConfig } from '../../src-main/engine/unet/spec';
import { disposeWeights, initWeights } from '../../src-main/engine/unet/weights';
import { squaresData, tinyConfig } from './tinyRun';
import { getPreset } from '../../src-shared/config/presets';
import { GNS_SMOOTHING_STEPS, gnsBatchSizes, gnsCaption } from '../../src-shared/gradientNoiseScale';

const N = 8; // population size
const cfg = tinyConfig({ model: { channels: 32, numResBlocks: 1, channelMult: [1], attentionResolutions: [] }, diffusion: { steps: 20 } });

interface Population {
  gram: Float64Array; // N×N
  gradSq: number; // exact |G|²
  traceSigma: number; // exact tr(Σ)
  /** Mean gradient of examples [0, 1, 2] from one batched backward pass, and from the per-example ones. */
  batched: { direct: Float32Array; fromPerExample: Float32Array };
}

let pop: Population;

beforeAll(async () => {
  await selectBackend('cpu');
  const layout = buildLayout(unetSpecFromConfig(cfg));
  const flat = flatLayout(layout);
  const init = initWeights(layout, new Rng(11));
  const params = flatten(flat, init);
  disposeWeights(init);
  const diffusion = diffusionFromConfig(cfg);
  const data = squaresData(8, 1, N, 1);
  const rng = new Rng(5);
  const x0 = data.trainBatch(Array.from({ length: N }, (_, i) => i));
  const ts = Array.from({ length: N }, () => rng.int(cfg.diffusion.steps));
  const noise = rng.normalArray(N * 64);
  // The gradient of the mean loss over examples `idx`, exactly as the trainer forms a chunk's gradient.
  const meanGrad = (idx: number[]): Float32Array =>
    tf.tidy(() => {
      const n = idx.length;
      const xs = tf.tensor4d(Float32Array.from(idx.flatMap((i) => Array.from(x0.subarray(i * 64, (i + 1) * 64)))), [n, 8, 8, 1]);
      const ns = tf.tensor4d(Float32Array.from(idx.flatMap((i) => Array.from(noise.subarray(i * 64, (i + 1) * 64)))), [n, 8, 8, 1]);
      const f = (p: tf.Tensor) => {
        const weights = unflatten(flat, p as tf.Tensor1D);
        const model = (x: tf.Tensor4D, times: tf.Tensor1D) => unetForward(layout, weights, x, times);
        return tf.mean(trainingLosses(diffusion, model, xs, idx.map((i) => ts[i]), ns).loss) as tf.Scalar;
      };
      return (tf.grad(f)(params) as tf.Tensor1D).dataSync() as Float32Array;
    });
  const g = Array.from({ length: N }, (_, i) => Float32Array.from(meanGrad([i])));
  const direct = Float32Array.from(meanGrad([0, 1, 2]));
  params.dispose();
  const P = g[0].length;
  const gram = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = i; j < N; j++) {
      let s = 0;
      for (let k = 0; k < P; k++) s += g[i][k] * g[j][k];
      gram[i * N + j] = gram[j * N + i] = s;
    }
  }
  let all = 0;
  let diag = 0;
  for (let i = 0; i < N; i++) {
    diag += gram[i * N + i];
    for (let j = 0; j < N; j++) all += gram[i * N + j];
  }
  const gradSq = all / (N * N);
  const fromPerExample = new Float32Array(P);
  for (let k = 0; k < P; k++) fromPerExample[k] = (g[0][k] + g[1][k] + g[2][k]) / 3;
  pop = { gram, gradSq, traceSigma: diag / N - gradSq, batched: { direct, fromPerExample } };
});

/** |mean of the gradients of the examples in `idx`|², from the Gram matrix. */
function sqNormOfMean(idx: readonly number[]): number {
  let s = 0;
  for (const i of idx) for (const j of idx) s += pop.gram[i * N + j];
  return s / (idx.length * idx.length);
}

/**
 * Many seeded two-batch estimates: each draw takes B examples independently and uniformly from the
 * population, splits them into chunks of the given sizes as the trainer does, and estimates.
 */
function draws(chunkSizes: number[], count: number, nominalBSmall?: number) {
  const B = chunkSizes.reduce((a, b) => a + b, 0);
  const rng = new Rng(1234);
  const gs: number[] = [];
  const trs: number[] = [];
  for (let d = 0; d < count; d++) {
    const idx = Array.from({ length: B }, () => rng.int(N));
    const chunks: { sqNorm: number; size: number }[] = [];
    let start = 0;
    for (const size of chunkSizes) {
      chunks.push({ sqNorm: sqNormOfMean(idx.slice(start, start + size)), size });
      start += size;
    }
    const small = smallBatchStats(chunks);
    const e = gnsEstimates(small.meanSqNorm, nominalBSmall ?? small.bSmall, sqNormOfMean(idx), B);
    gs.push(e.gradSq);
    trs.push(e.traceSigma);
  }
  const stats = (xs: number[]) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
    return { mean, se: Math.sqrt(variance / xs.length) };
  };
  return { gradSq: stats(gs), traceSigma: stats(trs) };
}

/** How many standard errors the mean of the draws lies from the exact value. */
const zScore = (s: { mean: number; se: number }, exact: number) => Math.abs(s.mean - exact) / s.se;

describe('gradient noise scale against exact per-example gradients (tiny UNet, cpu)', () => {
  it('a batched backward pass gives the mean of the per-example gradients (no coupling between examples)', () => {
    const { direct, fromPerExample } = pop.batched;
    let diff = 0;
    let norm = 0;
    for (let k = 0; k < direct.length; k++) {
      diff += (direct[k] - fromPerExample[k]) ** 2;
      norm += fromPerExample[k] ** 2;
    }
    expect(Math.sqrt(diff / norm)).toBeLessThan(1e-4);
    expect(pop.traceSigma).toBeGreaterThan(0);
    expect(pop.gradSq).toBeGreaterThan(0);
    console.log(`exact |G|² = ${pop.gradSq}, tr(Σ) = ${pop.traceSigma}, B_simple = ${pop.traceSigma / pop.gradSq}`);
  });

  it('is unbiased for |G|² and tr(Σ) with two equal halves (the split on GNS steps)', () => {
    const r = draws([4, 4], 100_000);
    expect(zScore(r.gradSq, pop.gradSq)).toBeLessThan(4);
    expect(zScore(r.traceSigma, pop.traceSigma)).toBeLessThan(4);
    // The check has power: the standard errors are small next to the values.
    expect(r.gradSq.se).toBeLessThan(0.05 * pop.gradSq);
    expect(r.traceSigma.se).toBeLessThan(0.01 * pop.traceSigma);
  });

  it('is unbiased with unequal chunks (odd batch or a microbatch that does not divide it)', () => {
    const r = draws([3, 3, 1], 100_000);
    expect(zScore(r.gradSq, pop.gradSq)).toBeLessThan(4);
    expect(zScore(r.traceSigma, pop.traceSigma)).toBeLessThan(4);
    // Taking the nominal microbatch (3) as B_small, as the trainer did, is biased far beyond the noise.
    const nominal = draws([3, 3, 1], 100_000, 3);
    expect(zScore(nominal.gradSq, pop.gradSq)).toBeGreaterThan(20);
    expect(zScore(nominal.traceSigma, pop.traceSigma)).toBeGreaterThan(20);
  });
});

describe('gradient noise scale in the trainer', () => {
  it('an odd batch reports the harmonic mean of its chunk sizes as B_small', () => {
    const events: TrainEvent[] = [];
    const t = Trainer.create(tinyConfig({ training: { batchSize: 3 }, intervals: { gnsEvery: 1 } }), squaresData(8, 1), {
      onEvent: (e) => events.push(e),
    });
    t.trainStep();
    t.trainStep();
    t.dispose();
    const gns = events.filter((e) => e.type === 'gns');
    expect(gns).toHaveLength(2);
    for (const e of gns) {
      if (e.type !== 'gns') throw new Error('unreachable');
      // chunks of 2 and 1: 2 / (1/2 + 1/1)
      expect(e.bSmall).toBeCloseTo(4 / 3, 12);
      expect(e.bBig).toBe(3);
      expect(Number.isFinite(e.bSimple)).toBe(true);
    }
  });
});

describe('gradient noise scale smoothing', () => {
  /** Noise-free estimates of a run whose |G|² falls early in training while tr(Σ) stays put. */
  function smoothedAt(step: number, every: number): number {
    const gns = new GradientNoiseScale();
    const bSmall = 8;
    const bBig = 16;
    let last = NaN;
    for (let s = every; s <= step; s += every) {
      const g = 0.02 + Math.exp(-s / 1000);
      const tr = 1;
      last = gns.add(s, g + tr / bSmall, bSmall, g + tr / bBig, bBig).bSimple;
    }
    return last;
  }

  it('reports the same B_simple at the same step whatever the estimation interval', () => {
    // The reference: an estimate at every step, i.e. the exponentially weighted average over steps itself.
    const everyStep = smoothedAt(3000, 1);
    const every10 = smoothedAt(3000, 10);
    const every100 = smoothedAt(3000, 100);
    console.log(`B_simple at step 3000: every step ${everyStep}, every 10 ${every10}, every 100 ${every100}`);
    expect(Math.abs(every10 / everyStep - 1)).toBeLessThan(0.05);
    expect(Math.abs(every100 / everyStep - 1)).toBeLessThan(0.1);
    // The old average (initialised with the first estimate, decayed 0.95 per estimate) gave 14.1 every
    // step, 12.3 every 10 and 2.6 every 100: its window spanned 20 estimates, not a span of steps, and the
    // first (early, large |G|²) estimate weighed as much as 20 later ones.
  });

  it('restores its state exactly (resume gives the same next value)', () => {
    const a = new GradientNoiseScale();
    a.add(10, 2, 8, 1.5, 16);
    a.add(20, 1.8, 8, 1.2, 16);
    const b = new GradientNoiseScale();
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    expect(b.add(30, 1.7, 8, 1.1, 16)).toEqual(a.add(30, 1.7, 8, 1.1, 16));
  });
});

describe('gradient noise scale chart caption', () => {
  it('states B_simple, the batch sizes and the smoothing of the run’s own config', () => {
    const quick = getPreset('mnist-quick').config;
    const text = gnsCaption(quick);
    expect(text).toContain('B_simple = tr(Σ)/|G|²');
    expect(text).toContain('every 100 steps');
    expect(text).toContain('B_big = 16');
    expect(text).toContain('2 chunks of 8 (B_small = 8)');
    expect(text).toContain(`e^(−k/${GNS_SMOOTHING_STEPS})`);
    const uneven = gnsCaption({ ...quick, training: { ...quick.training, batchSize: 16, microbatch: 6 }, intervals: { ...quick.intervals, gnsEvery: 25 } });
    expect(uneven).toContain('every 25 steps');
    expect(uneven).toContain('chunks of 6, 6, 4 (harmonic mean 5.14)');
    expect(gnsBatchSizes({ batchSize: 16, microbatch: 6 }).bSmall).toBeCloseTo(3 / (1 / 6 + 1 / 6 + 1 / 4), 12);
    expect(gnsCaption({ ...quick, intervals: { ...quick.intervals, gnsEvery: 0 } })).toContain('off for this run');
  });
});
