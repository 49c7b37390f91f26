/**
 * tf.add on wasm with the kernel fixes installed: big same-shape float32 pairs run on the native pool and give
 * tfjs's own Add result bit for bit; broadcasts, int32 and small tensors still go to tfjs's Add and stay right.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { NATIVE_ADD_MIN, wasmKernelFixesInstalled } from '../../src-main/engine/backend/wasmKernels';
import { loadNative } from '../../src-main/engine/native/loadNative';
import { setNativeKernels, setNativeThreads } from '../../src-main/engine/ops';
import { normals } from '../ops/gradCheck';

const addon = loadNative().addon;
const bits = (t: tf.Tensor) => new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer);
const poolRuns = () => addon!.info().parallelRuns + addon!.info().serialRuns;

describe.skipIf(!addon?.addSame)('Add on the native pool (wasm)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
    expect(wasmKernelFixesInstalled()).toBe(true);
    setNativeThreads(2);
  });
  afterAll(() => {
    setNativeKernels(true);
    setNativeThreads(addon!.info().physicalCores);
  });

  it('gives the bits of tfjs’s own Add for big same-shape float32 tensors, on the pool', () => {
    const shape = [8, 32, 32, 24]; // 196,608 elements: several pool tasks
    const vals = (seed: number) => Float32Array.from(normals(8 * 32 * 32 * 24, seed), (v, i) => (i % 5 === 0 ? v * 1e-7 : i % 7 === 0 ? v * 1e7 : v));
    const a = tf.tensor(vals(1), shape);
    const b = tf.tensor(vals(2), shape);
    const runs = poolRuns();
    const ours = tf.add(a, b);
    expect(poolRuns()).toBeGreaterThan(runs); // the native pool ran it
    setNativeKernels(false);
    const theirs = tf.add(a, b);
    setNativeKernels(true);
    expect(ours.shape).toEqual(shape);
    const x = bits(ours);
    const y = bits(theirs);
    expect(x.findIndex((v, i) => v !== y[i])).toBe(-1);
    // and it is a sum: a spot check against float32 rounding of the double sum
    const av = a.dataSync();
    const bv = b.dataSync();
    expect(ours.dataSync()[12345]).toBe(Math.fround(av[12345] + bv[12345]));
    tf.dispose([a, b, ours, theirs]);
  });

  it('leaves broadcasts, int32 and small tensors to tfjs’s Add', () => {
    const big = tf.fill([NATIVE_ADD_MIN * 2], 1.5);
    const row = tf.fill([1], 2);
    const runs = poolRuns();
    const broadcast = tf.add(big, row);
    const ints = tf.add(tf.fill([NATIVE_ADD_MIN * 2], 3, 'int32'), tf.fill([NATIVE_ADD_MIN * 2], 4, 'int32'));
    const small = tf.add(tf.fill([100], 1), tf.fill([100], 2));
    expect(poolRuns()).toBe(runs);
    expect(broadcast.dataSync()[NATIVE_ADD_MIN + 5]).toBe(3.5);
    expect(ints.dtype).toBe('int32');
    expect(ints.dataSync()[7]).toBe(7);
    expect(small.dataSync()[99]).toBe(3);
    tf.dispose([big, row, broadcast, ints, small]);
  });
});
