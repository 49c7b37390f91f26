/**
 * Sinusoidal embedding of the (rescaled) timestep (SPEC §7): f_i = exp(−ln(10000)·i/half),
 * emb = [cos(t·f) | sin(t·f)], cos first, a zero column when the size is odd.
 */
import * as tf from '@tensorflow/tfjs';
import { sleefExpf } from '../referenceFloat32';

const MAX_PERIOD = 10000;

/**
 * The frequencies in float32, rounded step by step as the reference's float32 tensors are
 * (−ln(P)·i in float32, then / half, then PyTorch's exp, which is SLEEF's expf: see referenceFloat32.ts).
 */
export function embeddingFrequencies(dim: number, maxPeriod = MAX_PERIOD): Float32Array {
  const half = Math.floor(dim / 2);
  const negLog = Math.fround(-Math.log(maxPeriod));
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    freqs[i] = sleefExpf(Math.fround(Math.fround(negLog * i) / half));
  }
  return freqs;
}

/** [B] times → [B, dim] embedding. */
export function timestepEmbedding(times: tf.Tensor1D, dim: number, maxPeriod = MAX_PERIOD): tf.Tensor2D {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`embedding size must be a positive integer, got ${dim}`);
  return tf.tidy(() => {
    const freqs = tf.tensor2d(embeddingFrequencies(dim, maxPeriod), [1, Math.floor(dim / 2)]);
    const args = tf.mul(tf.reshape(times, [-1, 1]), freqs);
    const parts = [tf.cos(args), tf.sin(args)];
    if (dim % 2 === 1) parts.push(tf.zeros([times.shape[0], 1]));
    return tf.concat(parts, 1) as tf.Tensor2D;
  });
}
