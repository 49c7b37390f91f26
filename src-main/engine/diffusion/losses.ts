/**
 * Variational bound terms and training losses (SPEC §4). Every term is a per-sample mean over
 * dimensions; vb terms are in bits.
 */
import * as tf from '@tensorflow/tfjs';
import { tidy } from '../tensorScope';
import { callModel, checkTimesteps, type DenoiseModel, type Diffusion, type Timesteps } from './diffusion';
import { qMeanVariance, qPosterior, qSample } from './forward';
import { discretizedGaussianLogLikelihood, meanFlat, normalKl, stopGradient } from './gaussian';
import { reverseFromOutput, reverseFromParts, type ReverseStep } from './reverse';

export interface VbTerms {
  /** The term used: the decoder NLL at t = 0, the KL elsewhere. [B], bits/dim. */
  output: tf.Tensor1D;
  /** KL(q(x_{t−1}|x_t,x₀) ‖ p(x_{t−1}|x_t)) for every sample, bits/dim. */
  klBpd: tf.Tensor1D;
  /** −log p(x₀|x_t) with the discretised Gaussian for every sample, bits/dim. */
  decoderNllBpd: tf.Tensor1D;
  predXstart: tf.Tensor4D;
}

/** vb terms from a model output the caller already has (the output may carry a stop-gradient). */
export function vbTermsFromOutput(
  d: Diffusion,
  output: tf.Tensor4D,
  xStart: tf.Tensor4D,
  xT: tf.Tensor4D,
  t: Timesteps,
  clipDenoised: boolean,
): VbTerms {
  checkTimesteps(d, t, xStart.shape[0]);
  return tidy(() => {
    const truth = qPosterior(d, xStart, xT, t);
    const p: ReverseStep = reverseFromOutput(d, output, xT, t, { clipDenoised });
    const klBpd = klBpdOf(truth, p);
    const decoderNllBpd = decoderNllBpdOf(xStart, p);
    return { output: pickVbTerm(t, decoderNllBpd, klBpd), klBpd, decoderNllBpd, predXstart: p.predXstart };
  });
}

function klBpdOf(truth: { mean: tf.Tensor4D; logVariance: tf.Tensor4D }, p: { mean: tf.Tensor4D; logVariance: tf.Tensor4D }): tf.Tensor1D {
  return tf.div(meanFlat(normalKl(truth.mean, truth.logVariance, p.mean, p.logVariance)), Math.LN2) as tf.Tensor1D;
}

function decoderNllBpdOf(xStart: tf.Tensor4D, p: { mean: tf.Tensor4D; logVariance: tf.Tensor4D }): tf.Tensor1D {
  const decoderNll = tf.neg(discretizedGaussianLogLikelihood(xStart, p.mean, tf.mul(0.5, p.logVariance)));
  return tf.div(meanFlat(decoderNll), Math.LN2) as tf.Tensor1D;
}

/** The term used per sample: the decoder NLL at t = 0, the KL elsewhere. */
function pickVbTerm(t: Timesteps, decoderNllBpd: tf.Tensor1D, klBpd: tf.Tensor1D): tf.Tensor1D {
  const isFirst = tf.tensor1d(t.map((s) => s === 0), 'bool');
  return tf.where(isFirst, decoderNllBpd, klBpd) as tf.Tensor1D;
}

/**
 * The vb term of L_hybrid from the network's mean channels (already cut off from the gradient) and its variance
 * channels: vbTermsFromOutput(…).output without building the joined output again, and with only the terms some
 * sample uses. Nearly every training batch has no t = 0, and then the decoder NLL (two CDFs, three logs: ~100 tfjs
 * kernels each way) is not computed; where it was, its gradient was dy·0 everywhere. The same values and gradient
 * (test/golden/losses.test.ts compares the bits with the joined form).
 */
function vbLossTerm(
  d: Diffusion,
  frozenMean: tf.Tensor4D,
  varValues: tf.Tensor4D,
  xStart: tf.Tensor4D,
  xT: tf.Tensor4D,
  t: Timesteps,
): tf.Tensor1D {
  return tidy(() => {
    const anyFirst = t.some((s) => s === 0);
    const anyLater = t.some((s) => s !== 0);
    const truth = anyLater ? qPosterior(d, xStart, xT, t) : null;
    const p = reverseFromParts(d, frozenMean, varValues, xT, t, { clipDenoised: false });
    const klBpd = truth ? klBpdOf(truth, p) : null;
    const decoderNllBpd = anyFirst ? decoderNllBpdOf(xStart, p) : null;
    if (klBpd && decoderNllBpd) return pickVbTerm(t, decoderNllBpd, klBpd);
    return (klBpd ?? decoderNllBpd)!;
  });
}

/** vb terms with a fresh network call. */
export function vbTerms(
  d: Diffusion,
  model: DenoiseModel,
  xStart: tf.Tensor4D,
  xT: tf.Tensor4D,
  t: Timesteps,
  clipDenoised: boolean,
): VbTerms {
  return tidy(() => vbTermsFromOutput(d, callModel(d, model, xT, t), xStart, xT, t, clipDenoised));
}

/** KL(q(x_{T−1}|x₀) ‖ N(0, I)) in bits/dim: the prior term, not learned. */
export function priorBpd(d: Diffusion, xStart: tf.Tensor4D): tf.Tensor1D {
  return tidy(() => {
    const last = new Array<number>(xStart.shape[0]).fill(d.process.numSteps - 1);
    const q = qMeanVariance(d, xStart, last);
    return tf.div(meanFlat(normalKl(q.mean, q.logVariance, 0, 0)), Math.LN2) as tf.Tensor1D;
  });
}

export interface TrainingLosses {
  /** The per-sample loss to minimise (before timestep-sampler weights). */
  loss: tf.Tensor1D;
  /** mean_flat((target − prediction)²); also reported for the KL objectives, where it is not trained. */
  mse: tf.Tensor1D;
  /** The vb term as it enters the loss (bits/dim, ×T/1000 for L_hybrid when rescaled); absent for L_simple. */
  vb?: tf.Tensor1D;
  /** x_t that was fed to the network. */
  xT: tf.Tensor4D;
}

/**
 * The training loss for one batch (SPEC §4): L_simple, L_hybrid (vb with a stop-gradient on the mean
 * channels, ×T/1000 when rescaled) or L_vlb (vb, ×T when rescaled). Gradients flow to the model's output.
 */
export function trainingLosses(
  d: Diffusion,
  model: DenoiseModel,
  xStart: tf.Tensor4D,
  t: Timesteps,
  noise: tf.Tensor4D,
): TrainingLosses {
  checkTimesteps(d, t, xStart.shape[0]);
  return tidy(() => {
    const xT = qSample(d, xStart, t, noise);
    const output = callModel(d, model, xT, t);
    return lossesFromOutput(d, output, xStart, xT, t, noise);
  });
}

/** The training loss given the network's output (the part of trainingLosses after the network call). */
export function lossesFromOutput(
  d: Diffusion,
  output: tf.Tensor4D,
  xStart: tf.Tensor4D,
  xT: tf.Tensor4D,
  t: Timesteps,
  noise: tf.Tensor4D,
): TrainingLosses {
  return tidy(() => {
    const channels = xStart.shape[3];
    const learned = output.shape[3] !== channels;
    const [meanOutput, varValues] = learned
      ? (tf.split(output, [channels, output.shape[3] - channels], 3) as tf.Tensor4D[])
      : [output, null];
    const target = d.meanType === 'epsilon' ? noise : xStart;
    const numSteps = d.process.numSteps;

    if (d.lossType === 'kl' || d.lossType === 'rescaled_kl') {
      const vb = vbTermsFromOutput(d, output, xStart, xT, t, false).output;
      const loss = (d.lossType === 'rescaled_kl' ? tf.mul(vb, numSteps) : vb.clone()) as tf.Tensor1D;
      const mse = meanFlat(tf.squaredDifference(target, stopGradient(meanOutput)));
      return { loss, mse, vb, xT: xT.clone() };
    }

    const mse = meanFlat(tf.squaredDifference(target, meanOutput));
    if (!varValues) return { loss: mse, mse: mse.clone(), xT: xT.clone() };

    // L_hybrid: the vb term may only move the variance, so the mean channels are frozen for it.
    let vb = vbLossTerm(d, stopGradient(meanOutput), varValues, xStart, xT, t);
    // λ = 0.001 on L_vlb ≈ T·E[L_t]: a single-t term in bits times T/1000.
    if (d.lossType === 'rescaled_mse') vb = tf.mul(vb, numSteps / 1000) as tf.Tensor1D;
    return { loss: tf.add(mse, vb) as tf.Tensor1D, mse, vb, xT: xT.clone() };
  });
}
