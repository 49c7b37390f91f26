import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp';
import { useFastKernels } from './kernelMode';
import { runNative } from './native';
import { hostMemoryBackend } from '../tensorScope';

/** SiLU(x) = x·sigmoid(x). On 'wasm' and 'cpu' `siluFast`, elsewhere `siluPlain`. */
export function silu(x: tf.Tensor): tf.Tensor {
  return useFastKernels() ? siluFast(x) : siluPlain(x);
}

/** tf ops and tf's built-in gradients (saves x and sigmoid(x)). */
export function siluPlain(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/**
 * Same value with its own gradient dy·σ(x)·(1 + x·(1 − σ(x))); saves only x.
 *
 * On 'wasm' and 'cpu' the sigmoid stays tfjs's kernel (its bits are the backend's own) and the arithmetic around
 * it runs as one pass over the data instead of a kernel per operation (1 + 5 kernels → 0): each float32 operation
 * rounded as the kernels round it (Math.fround of the exact double result of one float32 op is the float32
 * result), in the same order, so the same bits (test/ops/ops.test.ts compares them).
 */
export function siluFast(x: tf.Tensor): tf.Tensor {
  if (x.dtype !== 'float32' || !hostMemoryBackend()) return siluFastTf(x);
  return customOp<tf.Tensor>([x], (save) => {
    const sg = tf.sigmoid(x);
    const [value] = runNative([x, sg], [x.shape], ([xd, sd], [out]) => {
      for (let i = 0; i < out.length; i++) out[i] = xd![i] * sd![i];
    });
    sg.dispose();
    save([x]);
    return {
      value,
      backward: (dy, [xs]) => {
        const sgb = tf.sigmoid(xs);
        return runNative([dy, xs, sgb], [xs.shape], ([g, xd, sd], [dx]) => {
          const fr = Math.fround;
          for (let i = 0; i < dx.length; i++) {
            const s = sd![i];
            // dy · (σ · ((x · (1 − σ)) + 1)), rounded to float32 after every operation.
            dx[i] = g![i] * fr(s * fr(fr(xd![i] * fr(1 - s)) + 1));
          }
        });
      },
    };
  });
}

/** siluFast from tf ops (backends whose data the pass above cannot read). */
function siluFastTf(x: tf.Tensor): tf.Tensor {
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
