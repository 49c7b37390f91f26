/**
 * The UNet's weights: one tensor per reference parameter name, in the engine's layout (conv HWIO,
 * linear and 1×1 attention convs [in, out]). Converts to and from the reference (PyTorch) layouts, so a
 * reference checkpoint loads 1:1 and the studio's checkpoints load in PyTorch.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import type { ParamInfo, ParamKind, UNetLayout } from './layout';

export type WeightMap = Map<string, tf.Tensor>;

/** Engine shape of a parameter given its reference shape. */
export function engineShape(kind: ParamKind, refShape: readonly number[]): number[] {
  switch (kind) {
    case 'conv2d':
      return [refShape[2], refShape[3], refShape[1], refShape[0]];
    case 'conv1x1d':
    case 'linear':
      return [refShape[1], refShape[0]];
    default:
      return [...refShape];
  }
}

/** Reference-layout values (flat, row-major) → engine tensor. */
export function fromReferenceLayout(kind: ParamKind, refShape: readonly number[], values: ArrayLike<number> | Float32Array): tf.Tensor {
  return tf.tidy(() => {
    const data = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    switch (kind) {
      case 'conv2d':
        return tf.transpose(tf.tensor4d(data, refShape as [number, number, number, number]), [2, 3, 1, 0]);
      case 'conv1x1d':
        return tf.transpose(tf.tensor2d(data, [refShape[0], refShape[1]]));
      case 'linear':
        return tf.transpose(tf.tensor2d(data, refShape as [number, number]));
      default:
        return tf.tensor(data, [...refShape]);
    }
  });
}

/** Engine tensor → reference-layout values (flat, row-major). */
export function toReferenceLayout(kind: ParamKind, t: tf.Tensor): Float32Array {
  const ref = tf.tidy(() => {
    switch (kind) {
      case 'conv2d':
        return tf.transpose(t, [3, 2, 0, 1]);
      case 'conv1x1d':
      case 'linear':
        return tf.transpose(t);
      default:
        return t.clone();
    }
  });
  const out = Float32Array.from(ref.dataSync() as Float32Array);
  ref.dispose();
  return out;
}

/** Fresh weights initialised as PyTorch would, drawn from the run's generator in parameter order. */
export function initWeights(layout: UNetLayout, rng: Rng): WeightMap {
  const weights: WeightMap = new Map();
  for (const p of layout.params) {
    const n = p.refShape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    if (p.init === 'ones') values.fill(1);
    else if (p.init === 'normal') for (let i = 0; i < n; i++) values[i] = rng.normal();
    else if (p.init !== 'zeros') {
      const bound = p.init.uniform;
      for (let i = 0; i < n; i++) values[i] = (2 * rng.uniform() - 1) * bound;
    }
    weights.set(p.name, fromReferenceLayout(p.kind, p.refShape, values));
  }
  return weights;
}

/**
 * Weights from reference-layout arrays by name. Every parameter of the layout must be present with its
 * exact shape; the error names the first parameters that differ.
 */
export function loadReferenceWeights(
  layout: UNetLayout,
  source: ReadonlyMap<string, { shape: readonly number[]; data: ArrayLike<number> }>,
): WeightMap {
  const problems: string[] = [];
  for (const p of layout.params) {
    const got = source.get(p.name);
    if (!got) problems.push(`${p.name} is missing`);
    else if (got.shape.join(',') !== p.refShape.join(',')) {
      problems.push(`${p.name} has shape [${got.shape.join(', ')}], the model needs [${p.refShape.join(', ')}]`);
    }
  }
  const known = new Set(layout.params.map((p) => p.name));
  for (const name of source.keys()) if (!known.has(name)) problems.push(`${name} is not a parameter of this model`);
  if (problems.length) {
    const shown = problems.slice(0, 5).join('; ');
    throw new Error(`the weights do not fit this model: ${shown}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`);
  }
  const weights: WeightMap = new Map();
  for (const p of layout.params) {
    const got = source.get(p.name)!;
    weights.set(p.name, fromReferenceLayout(p.kind, p.refShape, got.data));
  }
  return weights;
}

export function paramInfoByName(layout: UNetLayout): Map<string, ParamInfo> {
  return new Map(layout.params.map((p) => [p.name, p]));
}

export function disposeWeights(weights: WeightMap): void {
  for (const t of weights.values()) t.dispose();
  weights.clear();
}
