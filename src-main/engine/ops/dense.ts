import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp';
import { useFastKernels } from './kernelMode';
import { activeNative, runNative } from './native';
import { timed } from './opTimer';

/**
 * x [N, in] · W [in, out] + b (+ `residual` [N, out], e.g. an attention block's input). On 'wasm' and 'cpu' this is
 * `denseFast`, elsewhere `densePlain`.
 */
export function dense(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null, residual?: tf.Tensor2D): tf.Tensor2D {
  return useFastKernels() ? denseFast(x, weight, bias, residual) : withResidual(densePlain(x, weight, bias), residual);
}

/** residual + y as tf.add (the model's order before the native kernels fused it), or y alone. */
function withResidual(y: tf.Tensor2D, residual: tf.Tensor2D | undefined): tf.Tensor2D {
  if (!residual) return y;
  if (residual.shape.join() !== y.shape.join()) throw new Error(`dense: the residual has shape [${residual.shape}], the output [${y.shape}]`);
  return tf.tidy(() => tf.add(residual, y));
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
 * With the native kernels active (./native.ts) the same products run natively.
 */
export function denseFast(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null, residual?: tf.Tensor2D): tf.Tensor2D {
  const inputs: tf.Tensor[] = bias ? [x, weight, bias] : [x, weight];
  const nat = activeNative();
  if (nat) {
    const [n, k] = x.shape;
    const m = weight.shape[1];
    if (weight.shape[0] !== k) throw new Error(`dense: input has ${k} features, weight expects ${weight.shape[0]}`);
    if (residual && (residual.shape[0] !== n || residual.shape[1] !== m)) {
      throw new Error(`dense: the residual has shape [${residual.shape}], the output [${n},${m}]`);
    }
    // A residual is added in the same native call's output (no Add kernel, tensor or tape node of its own): the same
    // float32 additions as tf.add, so the same bits; its gradient is dy itself.
    return customOp<tf.Tensor2D>(residual ? [...inputs, residual] : inputs, (save) => {
      const [value] = timed('native dense fwd', () =>
        runNative([x, weight, bias, residual ?? null], [[n, m]], ([xd, wd, bd, rd], [yd]) => {
          nat.matmul(xd!, wd!, yd, n, m, k, false, false, false, bd);
          if (rd) for (let i = 0; i < yd.length; i++) yd[i] += rd[i]; // float32 sum of two float32s: exact rounding
        }),
      );
      save([x, weight]);
      return {
        value: value as tf.Tensor2D,
        backward: (dy, [xs, ws]) => {
          const grads = timed('native dense bwd', () =>
            runNative([dy, xs, ws], bias ? [[n, k], [k, m], [m]] : [[n, k], [k, m]], ([dyd, xd, wd], [dxd, dwd, dbd]) => {
              nat.matmul(dyd!, wd!, dxd, n, k, m, false, true, false); // dy·Wᵀ
              nat.matmul(xd!, dyd!, dwd, k, m, n, true, false, false); // xᵀ·dy
              if (dbd) nat.sumRows(dyd!, dbd, n, m);
            }),
          );
          return residual ? [...grads, dy] : grads;
        },
      };
    });
  }
  return withResidual(customOp<tf.Tensor2D>(inputs, (save) => {
    const value = timed('dense fwd', () => tf.tidy(() => {
      const y: tf.Tensor2D = tf.matMul(x, weight);
      return bias ? tf.add<tf.Tensor2D>(y, bias) : y;
    }));
    save([x, weight]);
    return {
      value,
      backward: (dy, [xs, ws]) => timed('dense bwd', () => {
        const grads: tf.Tensor[] = [
          tf.matMul(dy, tf.transpose(ws as tf.Tensor2D)),
          tf.matMul(tf.transpose(xs as tf.Tensor2D), dy),
        ];
        if (bias) grads.push(tf.sum(dy, 0));
        return grads;
      }),
    };
  }), residual);
}
