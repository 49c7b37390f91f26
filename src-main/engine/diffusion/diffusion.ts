/**
 * A Gaussian diffusion as the engine runs it: a noise process (src-shared) plus what the network
 * predicts and how it is trained. The network is any function (x_t, t_model) → output, layout NHWC,
 * so the math can be tested with fixed outputs.
 */
import * as tf from '@tensorflow/tfjs';
import { modelTime, type NoiseProcess } from '../../../src-shared/diffusion/noiseProcess';
import type { LossType, MeanType, VarianceType } from '../../../src-shared/diffusion/types';

/** The denoising network: x_t [B,H,W,C] and the time it sees [B] → [B,H,W,C or 2C]. */
export type DenoiseModel = (x: tf.Tensor4D, tModel: tf.Tensor1D) => tf.Tensor4D;

export interface DiffusionKind {
  readonly meanType: MeanType;
  readonly varianceType: VarianceType;
  readonly lossType: LossType;
}

export interface Diffusion extends DiffusionKind {
  readonly process: NoiseProcess;
}

export function createDiffusion(process: NoiseProcess, kind: DiffusionKind): Diffusion {
  return { process, meanType: kind.meanType, varianceType: kind.varianceType, lossType: kind.lossType };
}

/** Steps of the process, one per sample. */
export type Timesteps = readonly number[];

/** Throws unless t holds one valid step of the process per sample. */
export function checkTimesteps(d: Diffusion, t: Timesteps, batch: number): void {
  if (t.length !== batch) {
    throw new Error(`got ${t.length} timesteps for a batch of ${batch}`);
  }
  for (const s of t) {
    if (!Number.isInteger(s) || s < 0 || s >= d.process.numSteps) {
      throw new Error(`timestep ${s} is outside [0, ${d.process.numSteps})`);
    }
  }
}

/**
 * The per-sample value arr[t_i] as a float32 tensor [B,1,1,1] that broadcasts over an NHWC batch
 * (the reference's `_extract_into_tensor`: float64 gather, then float32).
 */
export function perSample(arr: ArrayLike<number>, t: Timesteps): tf.Tensor4D {
  const values = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) values[i] = arr[t[i]];
  return tf.tensor4d(values, [t.length, 1, 1, 1]);
}

/** The times the network is called with for steps t (original steps, rescaled to [0,1000) by default). */
export function modelTimes(d: Diffusion, t: Timesteps): tf.Tensor1D {
  return tf.tensor1d(
    t.map((s) => modelTime(d.process, s)),
    'float32',
  );
}

/** Calls the model and checks the channel count it returned. */
export function callModel(d: Diffusion, model: DenoiseModel, x: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
  const times = modelTimes(d, t);
  try {
    const out = model(x, times);
    const channels = x.shape[3];
    const expected = outputChannels(d, channels);
    if (out.rank !== 4 || out.shape[0] !== x.shape[0] || out.shape[3] !== expected) {
      const shape = `[${out.shape.join(',')}]`;
      out.dispose();
      throw new Error(
        `the model returned shape ${shape}; expected [${x.shape[0]},H,W,${expected}] for variance type ${d.varianceType}`,
      );
    }
    return out;
  } finally {
    times.dispose();
  }
}

/** Output channels the network must produce: C, or 2C when it learns the variance. */
export function outputChannels(d: DiffusionKind, imageChannels: number): number {
  return d.varianceType === 'learned_range' || d.varianceType === 'learned'
    ? 2 * imageChannels
    : imageChannels;
}

/** 1 for samples with t ≠ 0, 0 otherwise, shaped [B,1,1,1]: no noise is added at the last step. */
export function nonzeroMask(t: Timesteps): tf.Tensor4D {
  return tf.tensor4d(
    t.map((s) => (s === 0 ? 0 : 1)),
    [t.length, 1, 1, 1],
  );
}
