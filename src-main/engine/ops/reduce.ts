import * as tf from '@tensorflow/tfjs';

/**
 * Mean over H and W of an NHWC tensor → [B, C], as a global average pool. tf.mean/tf.sum over non-inner axes
 * transpose first: 2.6 ms vs 0.18 ms (wasm) and 25 ms vs 1.9 ms (cpu) at [8, 32, 32, 64].
 */
export function meanHW(x: tf.Tensor4D): tf.Tensor2D {
  const [b, h, w, c] = x.shape;
  return tf.reshape(tf.avgPool(x, [h, w], 1, 'valid'), [b, c]);
}

/** Σ over B, H, W of an NHWC tensor → [C] (a bias gradient). */
export function sumBHW(x: tf.Tensor4D): tf.Tensor1D {
  const [, h, w] = x.shape;
  return tf.mul(tf.sum(meanHW(x), 0), h * w);
}
