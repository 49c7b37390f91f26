/**
 * conv2dFast (gradients from forward kernels only) against tf's conv2d and its built-in gradients:
 * on the cpu backend both ways, and the fast op on wasm against the plain op on cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv2d, conv2dFast, conv2dPlain, setKernelMode, setNativeKernels, useFastKernels, type Conv2dPadding } from '../../src-main/engine/ops';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { compare, runOp, type Spec } from './gradCheck';

interface Case {
  name: string;
  x: number[];
  k: number;
  co: number;
  stride: number;
  padding: Conv2dPadding;
  bias: boolean;
}

const CASES: Case[] = [
  { name: '3×3 same, even, batch 2, bias', x: [2, 8, 8, 3], k: 3, co: 4, stride: 1, padding: 'same', bias: true },
  { name: '3×3 same, odd, no bias', x: [3, 7, 7, 5], k: 3, co: 4, stride: 1, padding: 'same', bias: false },
  { name: '3×3 stride 2 pad 1 (downsample), even', x: [2, 8, 8, 4], k: 3, co: 6, stride: 2, padding: [[1, 1], [1, 1]], bias: true },
  { name: '3×3 stride 2 pad 1, odd and non-square', x: [3, 7, 9, 4], k: 3, co: 5, stride: 2, padding: [[1, 1], [1, 1]], bias: true },
  { name: '3×3 stride 2 valid, odd', x: [2, 9, 9, 4], k: 3, co: 5, stride: 2, padding: 'valid', bias: true },
  { name: '3×3 stride 2 valid, even (unused last row)', x: [2, 8, 8, 4], k: 3, co: 5, stride: 2, padding: 'valid', bias: false },
  { name: '3×3 stride 2 TF same', x: [2, 8, 8, 4], k: 3, co: 5, stride: 2, padding: 'same', bias: true },
  { name: '3×3 valid stride 1', x: [2, 6, 7, 3], k: 3, co: 4, stride: 1, padding: 'valid', bias: true },
  { name: '1×1 stride 1 (matMul path)', x: [2, 8, 8, 4], k: 1, co: 6, stride: 1, padding: 'valid', bias: true },
  { name: '1×1 same', x: [3, 5, 5, 4], k: 1, co: 3, stride: 1, padding: 'same', bias: false },
  { name: '1×1 stride 2', x: [2, 8, 8, 4], k: 1, co: 5, stride: 2, padding: 'valid', bias: true },
  { name: '3×3 asymmetric explicit padding', x: [2, 6, 5, 4], k: 3, co: 5, stride: 1, padding: [[2, 0], [0, 3]], bias: true },
  { name: '5×5 stride 3 explicit', x: [2, 6, 5, 4], k: 5, co: 3, stride: 3, padding: [[2, 1], [1, 2]], bias: false },
  { name: '3×3 same, larger sums (B4, 16×16×32 → 32)', x: [4, 16, 16, 32], k: 3, co: 32, stride: 1, padding: 'same', bias: true },
  { name: '3×3 stride 2 pad 1, larger (B4, 16×16×32 → 32)', x: [4, 16, 16, 32], k: 3, co: 32, stride: 2, padding: [[1, 1], [1, 1]], bias: true },
  { name: '3×3 stride 2, padding larger than needed', x: [2, 10, 10, 4], k: 3, co: 5, stride: 2, padding: [[0, 5], [4, 0]], bias: false },
];

function specs(c: Case): Spec[] {
  const s: Spec[] = [{ shape: c.x }, { shape: [c.k, c.k, c.x[3], c.co], scale: 0.3 }];
  if (c.bias) s.push({ shape: [c.co] });
  return s;
}

function opOf(impl: typeof conv2dFast, c: Case) {
  return (x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor) =>
    impl(x as tf.Tensor4D, w as tf.Tensor4D, (b ?? null) as tf.Tensor1D | null, c.stride, c.padding);
}

// Input grads ~1e-5 relative, filter (and bias) grads ~1e-4 relative to their magnitude (TFJS-CPU-NOTES.md).
function expectClose(name: string, cmp: { value: number; grads: number[] }): void {
  expect(cmp.value, `${name}: value`).toBeLessThan(1e-5);
  expect(cmp.grads[0], `${name}: dx`).toBeLessThan(1e-5);
  expect(cmp.grads[1], `${name}: dW`).toBeLessThan(1e-4);
  if (cmp.grads[2] !== undefined) expect(cmp.grads[2], `${name}: db`).toBeLessThan(1e-4);
}

const worst = { cpu: [0, 0, 0], wasm: [0, 0, 0] };
function track(be: 'cpu' | 'wasm', cmp: { value: number; grads: number[] }) {
  worst[be][0] = Math.max(worst[be][0], cmp.value);
  worst[be][1] = Math.max(worst[be][1], cmp.grads[0]);
  worst[be][2] = Math.max(worst[be][2], cmp.grads[1]);
}

describe('conv2dFast on cpu vs tf conv2d gradients on cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  for (const c of CASES) {
    it(c.name, async () => {
      const plain = await runOp('cpu', opOf(conv2dPlain, c), specs(c), 11);
      const fast = await runOp('cpu', opOf(conv2dFast, c), specs(c), 11);
      const cmp = compare(fast, plain);
      track('cpu', cmp);
      expectClose(c.name, cmp);
    });
  }
  it('the public conv2d takes the fast path on cpu: no Conv2DBackprop* kernels run', async () => {
    const x = tf.randomNormal([2, 6, 6, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    // The tfjs form of the fast path (with the native kernels active no tfjs conv kernel runs at all).
    setNativeKernels(false);
    try {
      const info = await tf.profile(() => tf.grads((a, b) => tf.sum(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, null, 2, [[1, 1], [1, 1]])))([x, w]));
      const names = new Set(info.kernelNames);
      expect(names.has('Conv2DBackpropFilter')).toBe(false);
      expect(names.has('Conv2DBackpropInput')).toBe(false);
      expect(names.has('Conv2D')).toBe(true);
      tf.dispose(info.result as tf.Tensor[]);
    } finally {
      setNativeKernels(true);
      tf.dispose([x, w]);
    }
  });
  it("setKernelMode('plain') forces tf's own gradients, 'auto' decides from the backend", async () => {
    const x = tf.randomNormal([1, 4, 4, 2]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 2, 2]) as tf.Tensor4D;
    const kernels = async () => {
      const info = await tf.profile(() => tf.grads((a, b) => tf.sum(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, null, 1, 'same')))([x, w]));
      tf.dispose(info.result as tf.Tensor[]);
      return new Set(info.kernelNames);
    };
    try {
      setKernelMode('plain');
      expect(useFastKernels()).toBe(false);
      expect((await kernels()).has('Conv2DBackpropFilter')).toBe(true);
      setKernelMode('auto');
      expect(useFastKernels()).toBe(true); // cpu
      expect((await kernels()).has('Conv2DBackpropFilter')).toBe(false);
    } finally {
      setKernelMode('auto');
      tf.dispose([x, w]);
    }
  });
});

describe('conv2dFast on wasm vs tf conv2d gradients on cpu', () => {
  beforeAll(async () => {
    const report = await selectBackend('wasm');
    expect(report.tfBackend).toBe('wasm');
  });
  for (const c of CASES) {
    it(c.name, async () => {
      const plain = await runOp('cpu', opOf(conv2dPlain, c), specs(c), 12);
      const fast = await runOp('wasm', opOf(conv2dFast, c), specs(c), 12);
      const cmp = compare(fast, plain);
      track('wasm', cmp);
      expectClose(c.name, cmp);
    });
  }
  it('the public conv2d trains on wasm (no Conv2DBackpropFilter there)', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 6, 6, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const g = tf.grads((a, b) => tf.sum(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, null, 1, 'same')))([x, w]);
    expect(g[1].shape).toEqual([3, 3, 3, 4]);
    tf.dispose([x, w, ...g]);
    expect(tf.memory().numTensors).toBe(before);
  });
  // A ResBlock's output: skip + conv(h). With the native kernels the conv adds the skip in its own pass (no Add
  // kernel); value and all four gradients (the skip's is dy) as tf's conv plus tf.add on cpu.
  for (const c of [CASES[0], CASES[1], CASES[13], CASES[8]]) {
    it(`${c.name}, plus a residual`, async () => {
      const outShape = (x: tf.Tensor, w: tf.Tensor) => conv2dPlain(x as tf.Tensor4D, w as tf.Tensor4D, null, c.stride, c.padding).shape;
      const withRes = (impl: typeof conv2dFast) => (x: tf.Tensor, w: tf.Tensor, ...rest: tf.Tensor[]) => {
        const b = c.bias ? (rest[0] as tf.Tensor1D) : null;
        const res = rest[c.bias ? 1 : 0] as tf.Tensor4D;
        if (impl === conv2dPlain) return tf.tidy(() => tf.add(res, conv2dPlain(x as tf.Tensor4D, w as tf.Tensor4D, b, c.stride, c.padding)));
        return conv2dFast(x as tf.Tensor4D, w as tf.Tensor4D, b, c.stride, c.padding, res);
      };
      await tf.setBackend('cpu');
      const probe = [tf.zeros(c.x), tf.zeros([c.k, c.k, c.x[3], c.co])];
      const resSpec: Spec = { shape: outShape(probe[0], probe[1]) };
      tf.dispose(probe);
      const plain = await runOp('cpu', withRes(conv2dPlain), [...specs(c), resSpec], 13);
      const fast = await runOp('wasm', withRes(conv2dFast), [...specs(c), resSpec], 13);
      const cmp = compare(fast, plain);
      expectClose(c.name, cmp);
      expect(cmp.grads.at(-1), 'residual gradient').toBeLessThan(1e-6);
      await tf.setBackend('wasm');
      const x = tf.randomNormal(c.x as [number, number, number, number]) as tf.Tensor4D;
      const w = tf.randomNormal([c.k, c.k, c.x[3], c.co]) as tf.Tensor4D;
      const r = tf.randomNormal(resSpec.shape as [number, number, number, number]) as tf.Tensor4D;
      const info = await tf.profile(() => tf.grads((a, b, d) => tf.sum(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, null, c.stride, c.padding, d as tf.Tensor4D)))([x, w, r]));
      expect(info.kernels.map((k) => k.name), 'the residual is added inside the conv').not.toContain('Add');
      // The same float additions as a separate add: the same bits as before the fusion.
      const fused = conv2dFast(x, w, null, c.stride, c.padding, r);
      const apart = tf.tidy(() => tf.add(r, conv2dFast(x, w, null, c.stride, c.padding)));
      expect(Buffer.from(fused.dataSync().buffer).equals(Buffer.from(apart.dataSync().buffer)), 'same bits as conv then add').toBe(true);
      tf.dispose([x, w, r, fused, apart]);
    });
  }
  afterAll(() => {
    console.log(`conv2d worst relative errors [value, dx, dW]: cpu ${worst.cpu.map((e) => e.toExponential(1))}, wasm ${worst.wasm.map((e) => e.toExponential(1))}`);
  });
});
