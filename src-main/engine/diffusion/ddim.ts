/**
 * DDIM sampling with η (SPEC §6): deterministic for η = 0, ancestral-like for η = 1. Uses the clipped
 * x̂₀ and the ε re-derived from it; a learned variance is ignored. Pair it with "ddimN" respacing.
 */
import * as tf from '@tensorflow/tfjs';
import { tidy } from '../tensorScope';
import type { NoiseSource } from '../rng';
import { nonzeroMask, perSample, type DenoiseModel, type Diffusion, type Timesteps } from './diffusion';
import { predictEpsFromXstart } from './forward';
import { reverseStep } from './reverse';
import { runReverseLoop, type SampleLoopOptions, type SampleStep } from './ancestral';

export function ddimSample(
  d: Diffusion,
  model: DenoiseModel,
  x: tf.Tensor4D,
  t: Timesteps,
  noiseSource: NoiseSource,
  eta: number,
  clipDenoised = true,
): SampleStep {
  if (!(eta >= 0) || !Number.isFinite(eta)) throw new Error(`DDIM eta must be a finite number ≥ 0, got ${eta}`);
  return tidy(() => {
    const p = reverseStep(d, model, x, t, { clipDenoised });
    const eps = predictEpsFromXstart(d, x, t, p.predXstart);
    const alphaBar = perSample(d.process.alphasCumprod, t);
    const alphaBarPrev = perSample(d.process.alphasCumprodPrev, t);
    // σ = η √((1−ᾱ_{t−1})/(1−ᾱ_t)) √(1−ᾱ_t/ᾱ_{t−1}), in float32 as the reference computes it.
    const sigma = tf.mul(
      tf.mul(eta, tf.sqrt(tf.div(tf.sub(1, alphaBarPrev), tf.sub(1, alphaBar)))),
      tf.sqrt(tf.sub(1, tf.div(alphaBar, alphaBarPrev))),
    );
    const z = noiseSource(x.shape);
    const meanPred = tf.add(
      tf.mul(p.predXstart, tf.sqrt(alphaBarPrev)),
      tf.mul(tf.sqrt(tf.sub(tf.sub(1, alphaBarPrev), tf.square(sigma))), eps),
    );
    const sample = tf.add(meanPred, tf.mul(tf.mul(nonzeroMask(t), sigma), z)) as tf.Tensor4D;
    return { sample, predXstart: p.predXstart };
  });
}

export interface DdimLoopOptions extends SampleLoopOptions {
  eta?: number;
}

export async function ddimSampleLoop(d: Diffusion, model: DenoiseModel, opts: DdimLoopOptions): Promise<tf.Tensor4D> {
  const eta = opts.eta ?? 0;
  return runReverseLoop(d, opts, 'DDIM sampling', (x, t) =>
    ddimSample(d, model, x, t, opts.noiseSource, eta, opts.clipDenoised ?? true),
  );
}
