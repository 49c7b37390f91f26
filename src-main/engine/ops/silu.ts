import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp';
import { useFastKernels } from './kernelMode';

/** SiLU(x) = x·sigmoid(x). On 'wasm' and 'cpu' `siluFast`, elsewhere `siluPlain`. */
export function silu(x: tf.Tensor): tf.Tensor {
  return useFastKernels() ? siluFast(x) : siluPlain(x);
}

/** tf ops and tf's built-in gradients (saves x and sigmoid(x)). */
export function siluPlain(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/** Same value with its own gradient dy·σ(x)·(1 + x·(1 − σ(x))); saves only x. */
export function siluFast(x: tf.Tensor): tf.Tensor {
  return customOp<tf.Tensor>([x], (save) => {
    const value = tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
    save([x]);
    return {
      value,
      backward: (dy, [xs]) => {
        const sg = tf.sigmoid(xs);
        return [tf.mul(dy, tf.mul(sg, tf.add(tf.mul(xs, tf.sub(1, sg)), 1)))];
      },
    };
  });
}
