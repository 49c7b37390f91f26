/**
 * The model's parameters as one flat float32 vector plus the table of where each named tensor lives in
 * it. The optimizer, the EMA copies and the gradient norm work on the flat vector (a handful of large
 * ops instead of hundreds of small ones); the network gets per-name views split off it.
 */
import * as tf from '@tensorflow/tfjs';
import { engineShape, type WeightMap } from '../unet/weights';
import type { ParamInfo, UNetLayout } from '../unet/layout';

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

/** Concatenates named tensors in layout order into one vector. */
export function flatten(fl: FlatLayout, weights: ReadonlyMap<string, tf.Tensor>): tf.Tensor1D {
  return tf.tidy(() => tf.concat(fl.names.map((n) => tf.reshape(weights.get(n)!, [-1]))) as tf.Tensor1D);
}

/** Splits a flat vector back into named tensors (new tensors the caller owns). */
export function unflatten(fl: FlatLayout, flat: tf.Tensor1D): WeightMap {
  const parts = tf.tidy(() => tf.split(flat, fl.sizes).map((p, i) => tf.reshape(p, fl.shapes[i])));
  return new Map(fl.names.map((n, i) => [n, parts[i]]));
}
