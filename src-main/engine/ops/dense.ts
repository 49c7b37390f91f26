import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp';
import { useFastKernels } from './kernelMode';

/** x [N, in] · W [in, out] + b. On 'wasm' and 'cpu' this is `denseFast`, elsewhere `densePlain`. */
export function dense(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  return useFastKernels() ? denseFast(x, weight, bias) : densePlain(x, weight, bias);
}

/** tf's matMul and its built-in gradients (matMuls with transpose flags). */
export function densePlain(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  return tf.tidy(() => {
    const y: tf.Tensor2D = tf.matMul(x, weight);
    return bias ? tf.add<tf.Tensor2D>(y, bias) : y;
  });
}

/**
 * Same value; the gradients are plain 2-D matMuls of explicitly transposed operands
 * (dx = dy·Wᵀ, dW = xᵀ·dy): wasm's BatchMatMul is fast only without transpose flags.
 */
export function denseFast(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  const inputs: tf.Tensor[] = bias ? [x, weight, bias] : [x, weight];
  return customOp<tf.Tensor2D>(inputs, (save) => {
    const value = tf.tidy(() => {
      const y: tf.Tensor2D = tf.matMul(x, weight);
      return bias ? tf.add<tf.Tensor2D>(y, bias) : y;
    });
    save([x, weight]);
    return {
      value,
      backward: (dy, [xs, ws]) => {
        const grads: tf.Tensor[] = [
          tf.matMul(dy, tf.transpose(ws as tf.Tensor2D)),
          tf.matMul(tf.transpose(xs as tf.Tensor2D), dy),
        ];
        if (bias) grads.push(tf.sum(dy, 0));
        return grads;
      },
    };
  });
}
