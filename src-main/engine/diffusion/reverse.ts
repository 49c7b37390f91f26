/**
 * From the network's output to p(x_{t−1}|x_t) (SPEC §3): the predicted x̂₀, the mean and the variance.
 */
import * as tf from '@tensorflow/tfjs';
import { tidy } from '../tensorScope';
import { callModel, checkTimesteps, perSample, type DenoiseModel, type Diffusion, type Timesteps } from './diffusion';
import { predictXstartFromEps, qPosteriorMean } from './forward';

export interface ReverseStep {
  mean: tf.Tensor4D;
  /** Broadcastable to x: [B,1,1,1] for fixed variances, [B,H,W,C] when learned. */
  variance: tf.Tensor4D;
  logVariance: tf.Tensor4D;
  predXstart: tf.Tensor4D;
  /** The mean channels of the raw output (ε or x₀), before any clipping. */
  meanOutput: tf.Tensor4D;
}

export interface ReverseOptions {
  /** Clamp x̂₀ to [−1, 1] before forming the mean. Sampling and NLL clip; training never does. */
  clipDenoised: boolean;
}

/** Splits the output [ε | v] along channels: ε first (SPEC §3). */
export function splitOutput(output: tf.Tensor4D, imageChannels: number): [tf.Tensor4D, tf.Tensor4D | null] {
  const channels = output.shape[3];
  if (channels === imageChannels) return [output, null];
  const [meanPart, varPart] = tf.split(output, [imageChannels, channels - imageChannels], 3) as tf.Tensor4D[];
  return [meanPart, varPart];
}

/** p(x_{t−1}|x_t) from an output the network already produced. */
export function reverseFromOutput(
  d: Diffusion,
  output: tf.Tensor4D,
  x: tf.Tensor4D,
  t: Timesteps,
  options: ReverseOptions,
): ReverseStep {
  checkTimesteps(d, t, x.shape[0]);
  return tidy(() => {
    const [meanOutput, varValues] = splitOutput(output, x.shape[3]);
    return { ...reverseFromParts(d, meanOutput, varValues, x, t, options), meanOutput };
  });
}

/**
 * p(x_{t−1}|x_t) from an output already split into its mean channels and its variance channels (null for a fixed
 * variance): the losses pass the parts they have instead of joining them only to split them again.
 */
export function reverseFromParts(
  d: Diffusion,
  meanOutput: tf.Tensor4D,
  varValues: tf.Tensor4D | null,
  x: tf.Tensor4D,
  t: Timesteps,
  options: ReverseOptions,
): Omit<ReverseStep, 'meanOutput'> {
  return tidy(() => {
    const { logVariance, variance } = modelVariance(d, varValues, t);
    let predXstart =
      d.meanType === 'epsilon' ? predictXstartFromEps(d, x, t, meanOutput) : (meanOutput.clone() as tf.Tensor4D);
    if (options.clipDenoised) predXstart = tf.clipByValue(predXstart, -1, 1);
    const mean = qPosteriorMean(d, predXstart, x, t);
    return { mean, variance, logVariance, predXstart };
  });
}

/** Calls the network and forms p(x_{t−1}|x_t). */
export function reverseStep(
  d: Diffusion,
  model: DenoiseModel,
  x: tf.Tensor4D,
  t: Timesteps,
  options: ReverseOptions,
): ReverseStep {
  checkTimesteps(d, t, x.shape[0]);
  return tidy(() => reverseFromOutput(d, callModel(d, model, x, t), x, t, options));
}

function modelVariance(
  d: Diffusion,
  varValues: tf.Tensor4D | null,
  t: Timesteps,
): { logVariance: tf.Tensor4D; variance: tf.Tensor4D } {
  const p = d.process;
  switch (d.varianceType) {
    case 'learned_range': {
      if (!varValues) throw new Error('learned_range needs variance channels in the model output');
      // frac = (v+1)/2 interpolates log σ² between log β̃_t (frac 0) and log β_t (frac 1); v is raw.
      const minLog = perSample(p.posteriorLogVarianceClipped, t);
      const maxLog = perSample(p.logBetas, t);
      const frac = tf.div(tf.add(varValues, 1), 2);
      const logVariance = tf.add(tf.mul(frac, maxLog), tf.mul(tf.sub(1, frac), minLog)) as tf.Tensor4D;
      return { logVariance, variance: tf.exp(logVariance) };
    }
    case 'learned': {
      if (!varValues) throw new Error('learned variance needs variance channels in the model output');
      return { logVariance: varValues.clone(), variance: tf.exp(varValues) };
    }
    case 'fixed_small':
      return {
        variance: perSample(p.posteriorVariance, t),
        logVariance: perSample(p.posteriorLogVarianceClipped, t),
      };
    case 'fixed_large':
      return {
        variance: perSample(p.fixedLargeVariance, t),
        logVariance: perSample(p.fixedLargeLogVariance, t),
      };
    default:
      throw new Error(`unknown variance type '${String(d.varianceType)}'`);
  }
}
