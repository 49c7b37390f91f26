/**
 * The copy-free wasm kernels (Identity shares the buffer; Slice/SplitV/Unpack copy only the region): results equal
 * the cpu backend's for every layout, buffers are shared and freed by reference count, and the originals can be put back.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { customOp } from '../../src-main/engine/ops/customOp';
import {
  installWasmKernelFixes,
  restoreWasmKernels,
  wasmKernelFixesInstalled,
} from '../../src-main/engine/backend/wasmKernels';

function iota(shape: number[], dtype: 'float32' | 'int32' = 'float32'): { values: number[]; shape: number[]; dtype: typeof dtype } {
  const n = shape.reduce((a, b) => a * b, 1);
  return { values: Array.from({ length: n }, (_, i) => (dtype === 'int32' ? i : i * 0.5 - 3)), shape, dtype };
}

/** Run `f` on fresh tensors on `backend`, return plain arrays of every output. */
async function on(backend: string, spec: ReturnType<typeof iota>, f: (x: tf.Tensor) => tf.Tensor | tf.Tensor[]) {
  await tf.setBackend(backend);
  const x = tf.tensor(spec.values, spec.shape, spec.dtype);
  const out = f(x);
  const outs = Array.isArray(out) ? out : [out];
  const res = outs.map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
  tf.dispose([x, ...outs]);
  return res;
}

const numDataIds = () => tf.engine().backend.numDataIds();

describe('copy-free wasm kernels', () => {
  beforeAll(async () => {
    const report = await selectBackend('wasm'); // installs the fixes
    expect(report.tfBackend).toBe('wasm');
    expect(wasmKernelFixesInstalled()).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  const SLICES: [number[], number[], number[]][] = [
    [[10], [3], [4]],
    [[4, 6], [1, 2], [2, 3]],
    [[4, 6], [1, 0], [2, 6]], // contiguous rows
    [[4, 6], [0, 5], [4, 1]], // a single column
    [[3, 4, 5], [1, 1, 1], [2, 3, 3]],
    [[3, 4, 5], [0, 2, 0], [3, 1, 5]],
    [[2, 3, 4, 5], [1, 0, 1, 2], [1, 3, 2, 3]],
    [[2, 3, 4, 5], [0, 1, 0, 0], [2, 2, 4, 5]],
    [[2, 3, 2, 4, 3], [1, 1, 0, 1, 1], [1, 2, 2, 2, 2]],
    [[2, 3, 2, 4, 3], [0, 0, 0, 0, 0], [2, 3, 2, 4, 3]], // everything
    [[64, 40], [3, 7], [50, 20]], // long runs (subarray copies)
    [[5, 0, 3], [0, 0, 0], [5, 0, 3]], // empty
  ];
  for (const [shape, begin, size] of SLICES) {
    it(`slice ${JSON.stringify(shape)} at ${JSON.stringify(begin)} size ${JSON.stringify(size)} equals cpu`, async () => {
      for (const dtype of ['float32', 'int32'] as const) {
        const f = (x: tf.Tensor) => tf.slice(x, begin, size);
        const cpu = await on('cpu', iota(shape, dtype), f);
        const before = tf.memory().numTensors;
        const wasm = await on('wasm', iota(shape, dtype), f);
        expect(tf.memory().numTensors).toBe(before);
        expect(wasm).toEqual(cpu);
      }
    });
  }

  it('bool and string slices', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const b = tf.tensor([true, false, true, true, false, false], [2, 3], 'bool');
    const s = tf.tensor(['a', 'b', 'c', 'd'], [2, 2], 'string');
    const bs = tf.slice(b, [0, 1], [2, 2]);
    const ss = tf.slice(s, [1, 0], [1, 2]);
    expect(Array.from(bs.dataSync())).toEqual([0, 1, 0, 0]);
    expect(ss.arraySync()).toEqual([['c', 'd']]);
    tf.dispose([b, s, bs, ss]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('split (SplitV) along every axis equals cpu', async () => {
    for (const axis of [0, 1, 2]) {
      const f = (x: tf.Tensor) => tf.split(x, [1, 2, 1].map((v) => (axis === 2 ? v + 1 : v)), axis);
      const spec = iota(axis === 2 ? [4, 4, 7] : [4, 4, 5]);
      expect(await on('wasm', spec, f)).toEqual(await on('cpu', spec, f));
    }
    const even = (x: tf.Tensor) => tf.split(x, 3, 1);
    expect(await on('wasm', iota([2, 6, 3]), even)).toEqual(await on('cpu', iota([2, 6, 3]), even));
  });

  it('concat along every axis equals cpu (short and long runs, empty parts, three inputs)', async () => {
    for (const [shape, axis] of [
      [[4, 4, 5], 0],
      [[4, 4, 5], 1],
      [[4, 4, 5], 2],
      [[2, 3, 3, 3], 3],
      [[2, 3, 1100], 2], // runs ≥ 1024 copy by subarray
    ] as [number[], number][]) {
      for (const dtype of ['float32', 'int32'] as const) {
        const f = (x: tf.Tensor) => tf.concat([x, tf.neg(x), tf.slice(x, 0, shape.map((d, i) => (i === axis ? 1 : d)))], axis);
        const spec = iota(shape, dtype);
        expect(await on('wasm', spec, f)).toEqual(await on('cpu', spec, f));
      }
    }
    const withEmpty = (x: tf.Tensor) => tf.concat([tf.zeros([2, 0]), x, tf.zeros([2, 0])], 1);
    expect(await on('wasm', iota([2, 3]), withEmpty)).toEqual(await on('cpu', iota([2, 3]), withEmpty));
    const bools = (x: tf.Tensor) => tf.concat([tf.greater(x, 0), tf.less(x, 0)], 1);
    expect(await on('wasm', iota([3, 2]), bools)).toEqual(await on('cpu', iota([3, 2]), bools));
  });

  it('unstack (Unpack) along every axis equals cpu', async () => {
    for (const axis of [0, 1, 2, -1]) {
      const f = (x: tf.Tensor) => tf.unstack(x, axis);
      expect(await on('wasm', iota([3, 4, 2]), f)).toEqual(await on('cpu', iota([3, 4, 2]), f));
    }
  });

  it('clone (Identity) shares the buffer and frees it with the last reference', async () => {
    await tf.setBackend('wasm');
    const ids0 = numDataIds();
    const x = tf.tensor([1, 2, 3, 4]);
    const c = tf.clone(x);
    expect(numDataIds()).toBe(ids0 + 1); // no second buffer
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4]);
    const v = tf.variable(c);
    c.dispose();
    expect(Array.from(v.dataSync())).toEqual([1, 2, 3, 4]);
    const next = tf.tensor([5, 6, 7, 8]);
    v.assign(next);
    next.dispose();
    expect(Array.from(v.dataSync())).toEqual([5, 6, 7, 8]);
    v.dispose();
    expect(numDataIds()).toBe(ids0);
  });

  it('gradients through slice, split and unstack are unchanged', async () => {
    const f = (x: tf.Tensor) =>
      tf.grad((a: tf.Tensor) => {
        const [p, q] = tf.split(a, 2, 1);
        const r = tf.unstack(tf.slice(a, [0, 1, 0], [2, 2, 3]), 1);
        return tf.sum(tf.add(tf.mul(p, q), tf.sum(tf.mul(r[0], r[1]))));
      })(x);
    expect(await on('wasm', iota([2, 4, 3]), f)).toEqual(await on('cpu', iota([2, 4, 3]), f));
  });

  it('training-style saves (save → tf.clone) no longer copy', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([64, 64]);
    const ids0 = numDataIds();
    const op = (a: tf.Tensor) =>
      customOp([a], (save) => {
        save([a]);
        return { value: tf.mul(a, 2), backward: (dy: tf.Tensor) => [tf.mul(dy, 2)] };
      });
    let during = 0;
    const g = tf.grad((a: tf.Tensor) => {
      const y = tf.sum(op(a));
      during = numDataIds();
      return y;
    })(x);
    expect(during - ids0).toBeLessThanOrEqual(2); // y·2 and the sum; the saved copy of a shares a's buffer
    tf.dispose([x, g]);
    expect(numDataIds()).toBe(ids0 - 1);
  });

  it('restoreWasmKernels puts tfjs kernels back, install is idempotent', async () => {
    const fixedSlice = tf.getKernel('Slice', 'wasm').kernelFunc;
    restoreWasmKernels();
    expect(wasmKernelFixesInstalled()).toBe(false);
    expect(tf.getKernel('Slice', 'wasm').kernelFunc).not.toBe(fixedSlice);
    await tf.setBackend('wasm');
    const ids0 = numDataIds();
    const x = tf.tensor([1, 2, 3]);
    const c = tf.clone(x);
    expect(numDataIds()).toBe(ids0 + 2); // tfjs's Identity copies
    tf.dispose([x, c]);
    installWasmKernelFixes();
    installWasmKernelFixes();
    expect(wasmKernelFixesInstalled()).toBe(true);
  });
});
