/**
 * The forward process q(x_t|x₀) and the posterior q(x_{t−1}|x_t,x₀) (SPEC §2).
 */
import * as tf from '@tensorflow/tfjs';
import { tidy } from '../tensorScope';
import { checkTimesteps, perSample, type Diffusion, type Timesteps } from './diffusion';

export interface GaussianParams {
  mean: tf.Tensor4D;
  variance: tf.Tensor4D;
  logVariance: tf.Tensor4D;
}

/** x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε. */
export function qSample(d: Diffusion, xStart: tf.Tensor4D, t: Timesteps, noise: tf.Tensor4D): tf.Tensor4D {
  checkTimesteps(d, t, xStart.shape[0]);
  return tidy(() =>
    tf.add(
      tf.mul(perSample(d.process.sqrtAlphasCumprod, t), xStart),
      tf.mul(perSample(d.process.sqrtOneMinusAlphasCumprod, t), noise),
    ),
  );
}

/** Mean and variance of q(x_t|x₀); variance and log-variance are per sample, [B,1,1,1]. */
export function qMeanVariance(d: Diffusion, xStart: tf.Tensor4D, t: Timesteps): GaussianParams {
  checkTimesteps(d, t, xStart.shape[0]);
  return tidy(() => ({
    mean: tf.mul(perSample(d.process.sqrtAlphasCumprod, t), xStart),
    variance: perSample(
      Array.from(d.process.alphasCumprod, (a) => 1 - a),
      t,
    ),
    logVariance: perSample(d.process.logOneMinusAlphasCumprod, t),
  }));
}

/** Mean of q(x_{t−1}|x_t,x₀) = c1_t x₀ + c2_t x_t. */
export function qPosteriorMean(d: Diffusion, xStart: tf.Tensor4D, xT: tf.Tensor4D, t: Timesteps): tf.Tensor4D {
  return tidy(() =>
    tf.add(
      tf.mul(perSample(d.process.posteriorMeanCoef1, t), xStart),
      tf.mul(perSample(d.process.posteriorMeanCoef2, t), xT),
    ),
  );
}

/** q(x_{t−1}|x_t,x₀): mean, β̃_t and the clipped log β̃_t (per sample). */
export function qPosterior(d: Diffusion, xStart: tf.Tensor4D, xT: tf.Tensor4D, t: Timesteps): GaussianParams {
  checkTimesteps(d, t, xStart.shape[0]);
  return tidy(() => ({
    mean: qPosteriorMean(d, xStart, xT, t),
    variance: perSample(d.process.posteriorVariance, t),
    logVariance: perSample(d.process.posteriorLogVarianceClipped, t),
  }));
}

/** x̂₀ = √(1/ᾱ_t) x_t − √(1/ᾱ_t − 1) ε. */
export function predictXstartFromEps(d: Diffusion, xT: tf.Tensor4D, t: Timesteps, eps: tf.Tensor4D): tf.Tensor4D {
  return tidy(() =>
    tf.sub(
      tf.mul(perSample(d.process.sqrtRecipAlphasCumprod, t), xT),
      tf.mul(perSample(d.process.sqrtRecipm1AlphasCumprod, t), eps),
    ),
  );
}

/** ε = (√(1/ᾱ_t) x_t − x̂₀) / √(1/ᾱ_t − 1). */
export function predictEpsFromXstart(d: Diffusion, xT: tf.Tensor4D, t: Timesteps, xStart: tf.Tensor4D): tf.Tensor4D {
  return tidy(() =>
    tf.div(
      tf.sub(tf.mul(perSample(d.process.sqrtRecipAlphasCumprod, t), xT), xStart),
      perSample(d.process.sqrtRecipm1AlphasCumprod, t),
    ),
  );
}
