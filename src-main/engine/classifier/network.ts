/**
 * The feature network of the sample-quality metrics: a small CNN classifier, NHWC, built from the engine's
 * ops (so it runs on the same fast kernels as the UNet).
 *
 *   conv 3×3 → 16, stride 1 · ReLU          size s
 *   conv 3×3 → 32, stride 2 · ReLU          s/2
 *   conv 3×3 → 64, stride 2 · ReLU          s/4
 *   conv 3×3 → 128, stride 2 · ReLU         s/8
 *   flatten · dense → 128 · ReLU            the features (FID, KID, precision/recall)
 *   dense → classes                         the logits (softmax: the IS analogue, the class histogram)
 *
 * Strided convolutions instead of pooling keep every gradient on the engine's own kernels. About 4 M
 * multiply-adds per 32×32 image: small enough to train on a laptop CPU in a minute or two.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2d, dense } from '../ops';
import { Rng } from '../rng';

/** Bumped when the layers change, so a cached classifier of another shape is retrained, not misread. */
export const CLASSIFIER_ARCH = 'cnn4-v1';
export const FEATURE_DIM = 128;

const CONVS = [
  { out: 16, stride: 1 },
  { out: 32, stride: 2 },
  { out: 64, stride: 2 },
  { out: 128, stride: 2 },
] as const;

export interface ClassifierShape {
  readonly size: number;
  readonly channels: number;
  readonly classes: number;
}

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** He-normal standard deviation for weights; 0 for biases. */
  readonly initStd: number;
}

/** Output side after a 3×3 convolution with padding 1 and this stride. */
function convOut(side: number, stride: number): number {
  return Math.floor((side - 1) / stride) + 1;
}

/** Names and shapes of the parameters, in a fixed order (the order of the flat vector). */
export function classifierParams(shape: ClassifierShape): ParamSpec[] {
  if (!Number.isInteger(shape.size) || shape.size < 8) throw new RangeError(`classifier: image size ${shape.size} must be at least 8`);
  if (!Number.isInteger(shape.classes) || shape.classes < 2) {
    throw new RangeError(`classifier: ${shape.classes} classes; at least 2 are needed`);
  }
  const specs: ParamSpec[] = [];
  let cin = shape.channels;
  let side = shape.size;
  CONVS.forEach((c, i) => {
    specs.push({ name: `conv${i}.weight`, shape: [3, 3, cin, c.out], initStd: Math.sqrt(2 / (9 * cin)) });
    specs.push({ name: `conv${i}.bias`, shape: [c.out], initStd: 0 });
    cin = c.out;
    side = convOut(side, c.stride);
  });
  const flat = side * side * cin;
  specs.push({ name: 'features.weight', shape: [flat, FEATURE_DIM], initStd: Math.sqrt(2 / flat) });
  specs.push({ name: 'features.bias', shape: [FEATURE_DIM], initStd: 0 });
  specs.push({ name: 'logits.weight', shape: [FEATURE_DIM, shape.classes], initStd: Math.sqrt(1 / FEATURE_DIM) });
  specs.push({ name: 'logits.bias', shape: [shape.classes], initStd: 0 });
  return specs;
}

export function paramCount(specs: readonly ParamSpec[]): number {
  return specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** Seeded He-normal initial parameters as one flat vector. */
export function initialParams(specs: readonly ParamSpec[], seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(paramCount(specs));
  let at = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (s.initStd > 0) for (let i = 0; i < n; i++) out[at + i] = rng.normal() * s.initStd;
    at += n;
  }
  return out;
}

export interface ClassifierOutputs {
  /** [batch, FEATURE_DIM], after the ReLU of the penultimate layer. */
  readonly features: tf.Tensor2D;
  /** [batch, classes]. */
  readonly logits: tf.Tensor2D;
}

/** The forward pass on a flat parameter vector (differentiable with respect to it). */
export function classifierForward(specs: readonly ParamSpec[], flat: tf.Tensor1D, x: tf.Tensor4D): ClassifierOutputs {
  const p = new Map<string, tf.Tensor>();
  let at = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    p.set(s.name, tf.reshape(tf.slice(flat, [at], [n]), s.shape as number[]));
    at += n;
  }
  const get = <T extends tf.Tensor>(name: string) => p.get(name) as T;
  let h: tf.Tensor4D = x;
  CONVS.forEach((c, i) => {
    const padding = c.stride === 1 ? 'same' : ([[1, 1], [1, 1]] as [[number, number], [number, number]]);
    h = tf.relu(conv2d(h, get<tf.Tensor4D>(`conv${i}.weight`), get<tf.Tensor1D>(`conv${i}.bias`), c.stride, padding));
  });
  const flatH = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
  const features = tf.relu(dense(flatH, get<tf.Tensor2D>('features.weight'), get<tf.Tensor1D>('features.bias')));
  const logits = dense(features, get<tf.Tensor2D>('logits.weight'), get<tf.Tensor1D>('logits.bias'));
  return { features, logits };
}
