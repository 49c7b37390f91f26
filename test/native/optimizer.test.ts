/**
 * AdamW and the EMA on the native kernels give bit-for-bit the parameters, moments and averages of the tfjs ops
 * (the exact-resume and golden paths depend on it), over several steps, with and without weight decay, on the
 * wasm and cpu backends and at any thread count; the native path runs no tfjs kernels; bad calls throw.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { loadNative } from '../../src-main/engine/native/loadNative';
import { setNativeThreads } from '../../src-main/engine/ops';
import { AdamW } from '../../src-main/engine/train/adamw';
import { EmaSet } from '../../src-main/engine/train/ema';
import { normals } from '../ops/gradCheck';

const addon = loadNative().addon;
// Not a multiple of the native chunk (32768), so the last task is a partial one.
const N = 3 * 32768 + 1234;

/** Parameters and gradients of very different magnitudes, exact zeros and a few huge values among them. */
function vector(seed: number, scale: number): Float32Array {
  const x = Float32Array.from(normals(N, seed), (v, i) => v * scale * (i % 7 === 0 ? 1e-6 : i % 11 === 0 ? 1e3 : 1));
  for (let i = 0; i < N; i += 97) x[i] = 0;
  return x;
}

const bits = (t: tf.Tensor) => new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer);

/** Runs `steps` AdamW + EMA updates, native or tfjs, and returns every state as raw bits. */
function run(native: boolean, weightDecay: number, steps = 4) {
  let params = tf.tensor1d(vector(1, 0.1));
  const adam = new AdamW(N, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay });
  const ema = new EmaSet([0.9999, 0.99], params);
  adam.useNative = native;
  ema.useNative = native;
  for (let s = 0; s < steps; s++) {
    const grad = tf.tensor1d(vector(10 + s, s === 2 ? 1e-4 : 1));
    const next = adam.apply(params, grad, 1e-4 * (1 + s)); // the lr changes (warm-up) from step to step
    params.dispose();
    grad.dispose();
    params = next;
    ema.update(params, s, s < 2); // warm-up rates on the first steps, the plain rates after
  }
  const out = { step: adam.step, params: bits(params), m: bits(adam.m), v: bits(adam.v), ema: ema.rates.map((r) => bits(ema.get(r))) };
  params.dispose();
  adam.dispose();
  ema.dispose();
  return out;
}

function expectSameBits(a: ReturnType<typeof run>, b: ReturnType<typeof run>) {
  expect(a.step).toBe(b.step);
  const firstDiff = (x: Uint32Array, y: Uint32Array) => x.findIndex((v, i) => v !== y[i]);
  expect(firstDiff(a.params, b.params)).toBe(-1);
  expect(firstDiff(a.m, b.m)).toBe(-1);
  expect(firstDiff(a.v, b.v)).toBe(-1);
  a.ema.forEach((e, k) => expect(firstDiff(e, b.ema[k])).toBe(-1));
}

describe.skipIf(!addon?.adamwStep)('native AdamW and EMA', () => {
  afterAll(() => {
    setNativeThreads(loadNative().addon!.info().physicalCores);
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`matches the tfjs ops bit for bit over several steps on ${backend}, with and without weight decay`, async () => {
      await selectBackend(backend);
      for (const wd of [0, 0.05]) {
        const tfjs = run(false, wd);
        const native = run(true, wd);
        expectSameBits(native, tfjs);
        // and the update did something: parameters moved, the EMA lags them
        const start = new Uint32Array(vector(1, 0.1).buffer);
        expect(native.params.some((v, i) => v !== start[i])).toBe(true);
        expect(native.ema[0].some((v, i) => v !== native.params[i])).toBe(true);
      }
    });
  }

  it('gives the same bits on 1 and 2 threads', async () => {
    await selectBackend('wasm');
    setNativeThreads(1);
    const one = run(true, 0.01, 2);
    setNativeThreads(2);
    const two = run(true, 0.01, 2);
    expectSameBits(one, two);
  });

  it('runs no tfjs kernel for the update (the tfjs path runs a dozen)', async () => {
    await selectBackend('wasm');
    const kernelsOf = async (native: boolean) => {
      const params = tf.tensor1d(vector(1, 0.1));
      const grad = tf.tensor1d(vector(2, 1));
      const adam = new AdamW(N);
      const ema = new EmaSet([0.999], params);
      adam.useNative = native;
      ema.useNative = native;
      const info = await tf.profile(() => {
        const next = adam.apply(params, grad, 1e-3);
        ema.update(next, 0, false);
        next.dispose();
      });
      tf.dispose([params, grad]);
      adam.dispose();
      ema.dispose();
      return info.kernels.map((k) => k.name);
    };
    expect(await kernelsOf(false)).toEqual(expect.arrayContaining(['Multiply', 'Add', 'Sqrt', 'RealDiv', 'Sub']));
    expect(await kernelsOf(true)).toEqual([]);
  });

  it('reports Σ grad² of the gradient it read, as a float64 sum does, the same on 1 and 2 threads', async () => {
    await selectBackend('wasm');
    const g = vector(5, 1);
    let exact = 0;
    for (const x of g) exact += x * x;
    const sq = (threads: number) => {
      setNativeThreads(threads);
      const params = tf.tensor1d(vector(1, 0.1));
      const grad = tf.tensor1d(g);
      const adam = new AdamW(N);
      const next = adam.apply(params, grad, 1e-3);
      const out = adam.lastGradSq;
      tf.dispose([params, grad, next]);
      adam.dispose();
      return out;
    };
    const one = sq(1);
    expect(one).not.toBeNull();
    expect(Math.abs(one! - exact) / exact).toBeLessThan(1e-12);
    expect(sq(2)).toBe(one);
    // The tfjs path reads nothing on the way: the trainer sums the squares itself then.
    const adam = new AdamW(N);
    adam.useNative = false;
    expect(adam.readsGradSq()).toBe(false);
    adam.dispose();
  });

  it('refuses arrays of the wrong length or type, naming the argument', () => {
    const a = new Float32Array(10);
    const short = new Float32Array(9);
    expect(() => addon!.adamwStep!(a, a, short, a, a, a, a, 0.9, 0.999, 1e-8, 1, 1, 1e-3)).toThrow(/m: expected 10 elements, got 9/);
    expect(() => addon!.emaUpdate!(a, a, new Float64Array(10) as unknown as Float32Array, 0.9)).toThrow(/out: expected a Float32Array/);
    expect(() => addon!.emaUpdate!(a, a, a, 'x' as unknown as number)).toThrow(/rate: expected a number/);
  });
});
