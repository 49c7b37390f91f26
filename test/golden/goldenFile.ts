/**
 * Access to the reference values (../shared/golden/golden.json, or the file named by IDDPM_GOLDEN).
 * Every golden test takes its inputs from this file, so another file of the same structure made from
 * other inputs must pass too.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const goldenPath = process.env.IDDPM_GOLDEN
  ? path.resolve(process.env.IDDPM_GOLDEN)
  : path.resolve(repoRoot, '../shared/golden/golden.json');

export interface GoldenTensor {
  shape: number[];
  dtype: string;
  data: number[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Golden = any;

let cached: Golden | undefined;

export function golden(): Golden {
  cached ??= JSON.parse(readFileSync(goldenPath, 'utf8'));
  return cached;
}

/** A golden NCHW tensor as an NHWC tfjs tensor (the engine's layout). */
export function nhwc(g: GoldenTensor): tf.Tensor4D {
  return tf.tidy(() => tf.tensor4d(g.data, g.shape as [number, number, number, number], 'float32').transpose([0, 2, 3, 1]));
}

/** An NHWC tensor's values in NCHW order, to compare with golden data. */
export function toNchwArray(x: tf.Tensor): Float32Array {
  const t = tf.tidy(() => x.transpose([0, 3, 1, 2]));
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return Float32Array.from(out);
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise and reports the worst element.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-5, label = '' }: { atol?: number; rtol?: number; label?: string } = {},
): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let worst = -Infinity;
  let worstIndex = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= worst)) {
      worst = Number.isNaN(excess) ? Infinity : excess;
      worstIndex = i;
    }
  }
  if (worst > 0) {
    const i = worstIndex;
    throw new Error(
      `${label}: element ${i} is ${actual[i]}, expected ${expected[i]} (|diff| ${Math.abs(actual[i] - expected[i])}, atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** Runs fn and asserts it left no tensor behind. */
export function expectNoLeak<T>(fn: () => T): T {
  const before = tf.memory().numTensors;
  const out = fn();
  const kept = countTensors(out);
  expect(tf.memory().numTensors - kept, 'tensors leaked').toBe(before);
  return out;
}

export async function expectNoLeakAsync<T>(fn: () => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  const kept = countTensors(out);
  expect(tf.memory().numTensors - kept, 'tensors leaked').toBe(before);
  return out;
}

function countTensors(x: unknown): number {
  if (x instanceof tf.Tensor) return x.isDisposed ? 0 : 1;
  if (Array.isArray(x)) return x.reduce((n: number, v) => n + countTensors(v), 0);
  if (x && typeof x === 'object' && !(ArrayBuffer.isView(x))) {
    return Object.values(x).reduce((n: number, v) => n + countTensors(v), 0);
  }
  return 0;
}

/** Ensures the deterministic cpu backend for golden comparisons. */
export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}
