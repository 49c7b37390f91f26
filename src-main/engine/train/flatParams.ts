/**
 * The model's parameters as one flat float32 vector plus the table of where each named tensor lives in
 * it. The optimizer, the EMA copies and the gradient norm work on the flat vector (a handful of large
 * ops instead of hundreds of small ones); the network gets per-name views split off it.
 */
import * as tf from '@tensorflow/tfjs';
import { disposeWeights, engineShape, type WeightMap } from '../unet/weights';
import type { ParamInfo, UNetLayout } from '../unet/layout';
import { runNative } from '../ops/native';
import { timed } from '../ops/opTimer';
import { hostMemoryBackend } from '../tensorScope';

export interface FlatLayout {
  names: string[];
  shapes: number[][];
  sizes: number[];
  total: number;
  infos: ParamInfo[];
}

export function flatLayout(layout: UNetLayout): FlatLayout {
  const names = layout.params.map((p) => p.name);
  const shapes = layout.params.map((p) => engineShape(p.kind, p.refShape));
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  return { names, shapes, sizes, total: sizes.reduce((a, b) => a + b, 0), infos: layout.params };
}

/**
 * Whether flatten/unflatten may copy the values directly (one pass, no tfjs kernels): on 'wasm' and 'cpu' the data
 * is in memory they can read, and with no gradient tape recording nothing needs the Split/Reshape/Concat nodes
 * (the copies are not differentiable). Same values either way: both only move floats.
 */
function copyDirectly(): boolean {
  return hostMemoryBackend() && !tf.engine().isTapeOn();
}

/** Concatenates named tensors in layout order into one vector. */
export function flatten(fl: FlatLayout, weights: ReadonlyMap<string, tf.Tensor>): tf.Tensor1D {
  const parts = fl.names.map((n, i) => {
    const t = weights.get(n);
    if (!t) throw new Error(`parameter ${n} is missing`);
    if (t.size !== fl.sizes[i]) throw new Error(`parameter ${n} has ${t.size} values; the model expects ${fl.sizes[i]}`);
    return t;
  });
  if (copyDirectly()) {
    return timed('flat params copy', () =>
      runNative(parts, [[fl.total]], (ins, [out]) => {
        let offset = 0;
        ins.forEach((values, i) => {
          out.set(values!, offset);
          offset += fl.sizes[i];
        });
      }),
    )[0] as tf.Tensor1D;
  }
  return tf.tidy(() => tf.concat(parts.map((t) => tf.reshape(t, [-1]))) as tf.Tensor1D);
}

/**
 * Splits a flat vector back into named tensors (new tensors the caller owns). Under a gradient tape the split is
 * differentiable (tf ops); otherwise a direct copy on 'wasm'/'cpu' (166 tensors for a small UNet: one pass instead
 * of a Split and a Reshape each).
 */
export function unflatten(fl: FlatLayout, flat: tf.Tensor1D): WeightMap {
  if (flat.size !== fl.total) throw new Error(`the flat vector has ${flat.size} values; the model has ${fl.total} parameters`);
  if (copyDirectly()) {
    const parts = timed('flat params copy', () =>
      runNative([flat], fl.shapes, ([src], outs) => {
        let offset = 0;
        outs.forEach((out, i) => {
          out.set(src!.subarray(offset, offset + fl.sizes[i]));
          offset += fl.sizes[i];
        });
      }),
    );
    return new Map(fl.names.map((n, i) => [n, parts[i]]));
  }
  const parts = tf.tidy(() => tf.split(flat, fl.sizes).map((p, i) => tf.reshape(p, fl.shapes[i])));
  return new Map(fl.names.map((n, i) => [n, parts[i]]));
}

/**
 * `lossOf(weights)` and its gradient with respect to the flat parameters, as one flat vector: the value and
 * gradient of `lossOf(unflatten(params))`. The gradient is taken with respect to the named tensors and flattened
 * afterwards, instead of through unflatten's Split and Reshapes: the same floats (a parameter's gradient is the
 * same accumulation either way, and the rest only moves values; test/train/flatParams.test.ts checks the bits),
 * without ~3 tfjs kernels and tape nodes per parameter tensor. A parameter the loss does not reach gets zeros.
 */
export function valueAndFlatGrad(
  fl: FlatLayout,
  params: tf.Tensor1D,
  lossOf: (weights: WeightMap) => tf.Scalar,
): { value: tf.Scalar; grad: tf.Tensor1D } {
  const weights = unflatten(fl, params);
  try {
    const xs = fl.names.map((n) => weights.get(n)!);
    const { value, grads } = tf.engine().gradients(() => lossOf(weights), xs, undefined, true);
    const zeros: tf.Tensor[] = [];
    const named = new Map(
      fl.names.map((n, i) => {
        let g = grads[i] as tf.Tensor | null | undefined;
        if (!g) zeros.push((g = tf.zeros(fl.shapes[i])));
        return [n, g];
      }),
    );
    try {
      return { value: value as tf.Scalar, grad: flatten(fl, named) };
    } finally {
      tf.dispose([...grads.filter((g): g is tf.Tensor => g != null), ...zeros]);
    }
  } finally {
    disposeWeights(weights);
  }
}
