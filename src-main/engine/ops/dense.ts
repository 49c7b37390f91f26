import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp';
import { useFastKernels } from './kernelMode';
import { activeNative, runNative } from './native';
import { timed } from './opTimer';

/**
 * x [..., in] · W [in, out] + b (+ `residual` [..., out], e.g. an attention block's input), over the last axis as
 * PyTorch's linear: the leading axes are rows (an NHWC activation needs no reshape first, and no Reshape kernels
 * and tape nodes each way). On 'wasm' and 'cpu' this is `denseFast`, elsewhere `densePlain`.
 */
export function dense<R extends tf.Rank>(x: tf.Tensor<R>, weight: tf.Tensor2D, bias: tf.Tensor1D | null, residual?: tf.Tensor<R>): tf.Tensor<R> {
  return useFastKernels() ? denseFast(x, weight, bias, residual) : withResidual(densePlain(x, weight, bias), residual);
}

/** residual + y as tf.add (the model's order before the native kernels fused it), or y alone. */
function withResidual<R extends tf.Rank>(y: tf.Tensor<R>, residual: tf.Tensor<R> | undefined): tf.Tensor<R> {
  if (!residual) return y;
  if (residual.shape.join() !== y.shape.join()) throw new Error(`dense: the residual has shape [${residual.shape}], the output [${y.shape}]`);
  return tf.tidy(() => tf.add(residual, y));
}

/** Rows and the output shape of x [..., in] · W [in, out]. */
function denseShapes(x: tf.Tensor, weight: tf.Tensor2D): { n: number; k: number; m: number; outShape: number[] } {
  if (x.rank < 2) throw new Error(`dense: the input must have rank 2 or more, got shape [${x.shape}]`);
  const k = x.shape[x.rank - 1];
  if (weight.shape[0] !== k) throw new Error(`dense: input has ${k} features, weight expects ${weight.shape[0]}`);
  const m = weight.shape[1];
  return { n: x.size / Math.max(k, 1), k, m, outShape: [...x.shape.slice(0, -1), m] };
}

/** `f` on x seen as [rows, in] (and the residual as [rows, out]), its result back in x's leading shape. */
function asRows<R extends tf.Rank>(
  x: tf.Tensor<R>,
  weight: tf.Tensor2D,
  residual: tf.Tensor<R> | undefined,
  f: (x2: tf.Tensor2D, r2: tf.Tensor2D | undefined) => tf.Tensor2D,
): tf.Tensor<R> {
  if (x.rank === 2) return f(x as unknown as tf.Tensor2D, residual as unknown as tf.Tensor2D | undefined) as unknown as tf.Tensor<R>;
  const { n, k, m, outShape } = denseShapes(x, weight);
  return tf.tidy(() => tf.reshape<tf.Rank>(f(tf.reshape(x, [n, k]), residual && tf.reshape(residual, [n, m])), outShape) as tf.Tensor<R>);
}

/** tf's matMul and its built-in gradients (matMuls with transpose flags). */
export function densePlain<R extends tf.Rank>(x: tf.Tensor<R>, weight: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor<R> {
  return asRows(x, weight, undefined, (x2) =>
    tf.tidy(() => {
      const y: tf.Tensor2D = tf.matMul(x2, weight);
      return bias ? tf.add<tf.Tensor2D>(y, bias) : y;
    }),
  );
}

/**
 * Same value; the gradients are plain 2-D matMuls of explicitly transposed operands
 * (dx = dy·Wᵀ, dW = xᵀ·dy): wasm's BatchMatMul is fast only without transpose flags.
 * With the native kernels active (./native.ts) the same products run natively.
 */
export function denseFast<R extends tf.Rank>(x: tf.Tensor<R>, weight: tf.Tensor2D, bias: tf.Tensor1D | null, residual?: tf.Tensor<R>): tf.Tensor<R> {
  const nat = activeNative();
  if (!nat) return asRows(x, weight, residual, (x2, r2) => denseFast2d(x2, weight, bias, r2));
  const inputs: tf.Tensor[] = bias ? [x, weight, bias] : [x, weight];
  const { n, k, m, outShape } = denseShapes(x, weight);
  if (residual && residual.shape.join() !== outShape.join()) {
    throw new Error(`dense: the residual has shape [${residual.shape}], the output [${outShape}]`);
  }
  // Natively the leading axes are just rows: any rank runs as [n, k] · [k, m] on the same data, no reshape.
  // A residual is added in the same native call's output (no Add kernel, tensor or tape node of its own): the same
  // float32 additions as tf.add, so the same bits; its gradient is dy itself.
  return customOp<tf.Tensor<R>>(residual ? [...inputs, residual] : inputs, (save) => {
    const [value] = timed('native dense fwd', () =>
      runNative([x, weight, bias, residual ?? null], [outShape], ([xd, wd, bd, rd], [yd]) => {
        nat.matmul(xd!, wd!, yd, n, m, k, false, false, false, bd);
        if (rd) for (let i = 0; i < yd.length; i++) yd[i] += rd[i]; // float32 sum of two float32s: exact rounding
      }),
    );
    save([x, weight]);
    return {
      value: value as tf.Tensor<R>,
      backward: (dy, [xs, ws]) => {
        const grads = timed('native dense bwd', () =>
          runNative([dy, xs, ws], bias ? [x.shape, [k, m], [m]] : [x.shape, [k, m]], ([dyd, xd, wd], [dxd, dwd, dbd]) => {
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

/** denseFast from tfjs matMuls, on [rows, in] (without the native kernels). */
function denseFast2d(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null, residual?: tf.Tensor2D): tf.Tensor2D {
  const inputs: tf.Tensor[] = bias ? [x, weight, bias] : [x, weight];
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
