/**
 * Ancestral sampling (SPEC §6): x_{t−1} = μ_θ + 1[t≠0]·σ·z, on the full or a respaced process.
 */
import * as tf from '@tensorflow/tfjs';
import { tidy } from '../tensorScope';
import type { NoiseSource } from '../rng';
import type { DenoiseModel, Diffusion, Timesteps } from './diffusion';
import { nonzeroMask } from './diffusion';
import { checkpointLoop, type LoopControl } from './loopControl';
import { reverseStep } from './reverse';

export interface SampleStep {
  sample: tf.Tensor4D;
  predXstart: tf.Tensor4D;
}

/** One ancestral step from x at steps t. */
export function pSample(
  d: Diffusion,
  model: DenoiseModel,
  x: tf.Tensor4D,
  t: Timesteps,
  noiseSource: NoiseSource,
  clipDenoised = true,
): SampleStep {
  return tidy(() => {
    const p = reverseStep(d, model, x, t, { clipDenoised });
    const z = noiseSource(x.shape);
    const sigma = tf.exp(tf.mul(0.5, p.logVariance));
    const sample = tf.add(p.mean, tf.mul(tf.mul(nonzeroMask(t), sigma), z)) as tf.Tensor4D;
    return { sample, predXstart: p.predXstart };
  });
}

export interface SampleLoopOptions extends LoopControl {
  /** Image shape [B,H,W,C]. */
  shape: [number, number, number, number];
  noiseSource: NoiseSource;
  /** Start from this x_{T−1} instead of fresh noise (the loop does not dispose it). */
  initial?: tf.Tensor4D;
  clipDenoised?: boolean;
}

/** Runs t = K−1 … 0 of the (possibly respaced) process and returns x₀ in [−1, 1]-ish float. */
export async function pSampleLoop(d: Diffusion, model: DenoiseModel, opts: SampleLoopOptions): Promise<tf.Tensor4D> {
  return runReverseLoop(d, opts, 'sampling', (x, t) => pSample(d, model, x, t, opts.noiseSource, opts.clipDenoised ?? true));
}

/** Shared loop: start noise, one step per t from the last to 0, progress and cancel between steps. */
export async function runReverseLoop(
  d: Diffusion,
  opts: SampleLoopOptions,
  what: string,
  step: (x: tf.Tensor4D, t: Timesteps) => SampleStep,
): Promise<tf.Tensor4D> {
  const batch = opts.shape[0];
  let x: tf.Tensor4D = opts.initial ? opts.initial.clone() : (opts.noiseSource(opts.shape) as tf.Tensor4D);
  const total = d.process.numSteps;
  try {
    for (let i = total - 1; i >= 0; i--) {
      const t = new Array<number>(batch).fill(i);
      const out = step(x, t);
      out.predXstart.dispose();
      x.dispose();
      x = out.sample;
      opts.onProgress?.(total - i, total);
      if (i > 0) await checkpointLoop(opts, what);
    }
    return x;
  } catch (err) {
    x.dispose();
    throw err;
  }
}
