/**
 * Training and sampling speed of the reference-sized small UNets (issue: configs A8, A32, B16).
 * Prints the median ms per training step and per sampling call (batch 64), the UNet FLOPs per step and
 * the achieved GFLOP/s. Synthetic images: speed does not depend on the pixels.
 */
import * as tf from '@tensorflow/tfjs';
import { withDefaults, type RunConfig } from '../src-shared/config/runConfig';
import { pSample } from '../src-main/engine/diffusion/ancestral';
import { Rng, rngNoise } from '../src-main/engine/rng';
import { Trainer } from '../src-main/engine/train/trainer';
import type { TrainingData } from '../src-shared/trainingData';
import { unetForward } from '../src-main/engine/unet/forward';
import { unetForwardFlops } from '../src-main/engine/unet/flops';
import { disposeWeights } from '../src-main/engine/unet/weights';

export interface TrainBenchConfig {
  name: string;
  channels: number;
  numResBlocks: number;
  channelMult: number[];
  batch: number;
  microbatch?: number;
}

export const TRAIN_CONFIGS: TrainBenchConfig[] = [
  { name: 'A8', channels: 32, numResBlocks: 1, channelMult: [1, 2, 2], batch: 8 },
  { name: 'A32', channels: 32, numResBlocks: 1, channelMult: [1, 2, 2], batch: 32 },
  { name: 'B16', channels: 64, numResBlocks: 2, channelMult: [1, 2, 2, 2], batch: 16 },
];

export interface TrainBenchResult {
  trainStepMsMedian: number;
  sampleCallMsMedian: number;
  gflops: number;
  flopsPerStep: number;
  /** UNet flops of one sampling call at batch 64. */
  sampleFlops: number;
  batch: number;
  microbatch: number | null;
  params: number;
}

function config(c: TrainBenchConfig): RunConfig {
  return withDefaults({
    dataset: { kind: 'cifar10' },
    model: { imageSize: 32, imageChannels: 3, channels: c.channels, numResBlocks: c.numResBlocks, channelMult: c.channelMult, attentionResolutions: [16], numHeads: 4, dropout: 0 },
    diffusion: { steps: 1000, noiseSchedule: 'cosine', objective: 'hybrid', varianceType: 'learned_range' },
    training: { batchSize: c.batch, microbatch: c.microbatch ?? -1, lr: 1e-4, emaRates: [0.9999], seed: 0 },
    intervals: { checkpointEvery: 0, evalEvery: 0, gnsEvery: 0, previewEvery: 0, previewSteps: 10, previewCount: 4 },
  });
}

function syntheticData(count: number): TrainingData {
  const rng = new Rng(1);
  const per = 32 * 32 * 3;
  const pool = Float32Array.from({ length: count * per }, () => rng.uniform() * 2 - 1);
  const batch = (idx: readonly number[]) => {
    const out = new Float32Array(idx.length * per);
    idx.forEach((i, k) => out.set(pool.subarray(i * per, (i + 1) * per), k * per));
    return out;
  };
  return { size: 32, channels: 3, trainCount: count, heldOutCount: 8, trainBatch: batch, heldOutBatch: batch };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A trainer for a bench config on synthetic data (bench/profile.ts uses it too). */
export function makeTrainer(c: TrainBenchConfig): Trainer {
  return Trainer.create(config(c), syntheticData(64));
}

export async function benchTrain(c: TrainBenchConfig, steps = 5, sampleCalls = 3): Promise<TrainBenchResult> {
  const trainer = makeTrainer(c);
  try {
    // Asynchronous reads: webgpu cannot read synchronously in Node (on the CPU backends it costs nothing).
    await trainer.trainStepAsync(); // warm-up: kernel (shader) compilation and first allocations
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await trainer.trainStepAsync();
      times.push(performance.now() - t0);
    }
    const weights = trainer.weightsFor(trainer.defaultEmaRate());
    const model = (x: tf.Tensor4D, t: tf.Tensor1D) => unetForward(trainer.layout, weights, x, t);
    const noise = rngNoise(new Rng(2));
    const sampleTimes: number[] = [];
    const x = noise([64, 32, 32, 3]) as tf.Tensor4D;
    for (let i = 0; i <= sampleCalls; i++) {
      const t0 = performance.now();
      const out = pSample(trainer.diffusion, model, x, new Array(64).fill(500), noise);
      await out.sample.data();
      if (i > 0) sampleTimes.push(performance.now() - t0);
      tf.dispose([out.sample, out.predXstart]);
    }
    x.dispose();
    disposeWeights(weights);
    const flopsPerStep = 3 * unetForwardFlops(trainer.layout, 32) * c.batch;
    const stepMs = median(times);
    return {
      trainStepMsMedian: stepMs,
      sampleCallMsMedian: median(sampleTimes),
      gflops: flopsPerStep / (stepMs / 1000) / 1e9,
      flopsPerStep,
      sampleFlops: unetForwardFlops(trainer.layout, 32) * 64,
      batch: c.batch,
      microbatch: c.microbatch ?? null,
      params: trainer.layout.paramCount,
    };
  } finally {
    trainer.dispose();
  }
}
