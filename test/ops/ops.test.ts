/**
 * dense, attentionCore, groupNorm(+SiLU), silu and upsampleNearest2x: each fast op (own gradient) against the
 * plain tf op and tf's built-in gradient: on the cpu backend, and the fast op on wasm against the plain op on cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attentionCoreFast,
  attentionCorePlain,
  denseFast,
  densePlain,
  groupNormFast,
  groupNormPlain,
  groupNormSiluPlain,
  setNativeKernels,
  siluFast,
  siluPlain,
  upsampleNearest2xFast,
  upsampleNearest2xPlain,
} from '../../src-main/engine/ops';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { Rng } from '../../src-main/engine/rng';
import { compare, runOp, type Spec } from './gradCheck';

type Op = (...xs: tf.Tensor[]) => tf.Tensor;
interface Case {
  name: string;
  fast: Op;
  plain: Op;
  specs: Spec[];
  /** tolerance on value and on each gradient, relative to magnitude */
  tol: number;
}

const gn = (silu: boolean, groups: number) => ({
  fast: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => groupNormFast(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, groups, 1e-5, silu),
  plain: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    (silu ? groupNormSiluPlain : groupNormPlain)(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, groups, 1e-5),
});

const CASES: Case[] = [
  {
    name: 'dense with bias',
    fast: (x, w, b) => denseFast(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
    plain: (x, w, b) => densePlain(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
    specs: [{ shape: [5, 12] }, { shape: [12, 7], scale: 0.3 }, { shape: [7] }],
    tol: 1e-5,
  },
  {
    name: 'dense without bias, batch 1',
    fast: (x, w) => denseFast(x as tf.Tensor2D, w as tf.Tensor2D, null),
    plain: (x, w) => densePlain(x as tf.Tensor2D, w as tf.Tensor2D, null),
    specs: [{ shape: [1, 16] }, { shape: [16, 9], scale: 0.3 }],
    tol: 1e-5,
  },
  {
    // An attention block's output: its input plus the projection (natively the product accumulates onto it).
    name: 'dense with bias plus a residual',
    fast: (x, w, b, r) => denseFast(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D, r as tf.Tensor2D),
    plain: (x, w, b, r) => tf.tidy(() => tf.add(r, densePlain(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D))),
    specs: [{ shape: [5, 12] }, { shape: [12, 7], scale: 0.3 }, { shape: [7] }, { shape: [5, 7] }],
    tol: 1e-5,
  },
  {
    name: 'dense without bias plus a residual',
    fast: (x, w, r) => denseFast(x as tf.Tensor2D, w as tf.Tensor2D, null, r as tf.Tensor2D),
    plain: (x, w, r) => tf.tidy(() => tf.add(r, densePlain(x as tf.Tensor2D, w as tf.Tensor2D, null))),
    specs: [{ shape: [6, 16] }, { shape: [16, 9], scale: 0.3 }, { shape: [6, 9] }],
    tol: 1e-5,
  },
  {
    // An attention block's projection on its NHWC activation (the positions as rows, no reshape).
    name: 'dense on [B, H, W, in] with bias plus a residual',
    fast: (x, w, b, r) => denseFast(x as tf.Tensor4D, w as tf.Tensor2D, b as tf.Tensor1D, r as tf.Tensor4D),
    plain: (x, w, b, r) => tf.tidy(() => tf.add(r, tf.reshape(densePlain(tf.reshape(x, [24, 12]) as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), [2, 3, 4, 7]))),
    specs: [{ shape: [2, 3, 4, 12] }, { shape: [12, 7], scale: 0.3 }, { shape: [7] }, { shape: [2, 3, 4, 7] }],
    tol: 1e-5,
  },
  {
    name: 'attention on [B, H, W, 3C]: 2 heads, B 2, 3×4 positions, C 8',
    fast: (x) => attentionCoreFast(x as tf.Tensor4D, 2),
    plain: (x) => tf.tidy(() => tf.reshape(attentionCorePlain(tf.reshape(x, [2, 12, 24]) as tf.Tensor3D, 2), [2, 3, 4, 8])),
    specs: [{ shape: [2, 3, 4, 24] }],
    tol: 1e-5,
  },
  {
    name: 'attention, 1 head, B 2, T 16 (4×4), C 8',
    fast: (x) => attentionCoreFast(x as tf.Tensor3D, 1),
    plain: (x) => attentionCorePlain(x as tf.Tensor3D, 1),
    specs: [{ shape: [2, 16, 24] }],
    tol: 1e-5,
  },
  {
    name: 'attention, 4 heads, B 3, T 9 (3×3, odd), C 16',
    fast: (x) => attentionCoreFast(x as tf.Tensor3D, 4),
    plain: (x) => attentionCorePlain(x as tf.Tensor3D, 4),
    specs: [{ shape: [3, 9, 48], scale: 2 }],
    tol: 1e-5,
  },
  {
    name: 'attention, 4 heads, B 2, T 64 (8×8), C 64',
    fast: (x) => attentionCoreFast(x as tf.Tensor3D, 4),
    plain: (x) => attentionCorePlain(x as tf.Tensor3D, 4),
    specs: [{ shape: [2, 64, 192] }],
    tol: 1e-5,
  },
  { name: 'groupNorm+SiLU, 32 groups of 1', ...gn(true, 32), specs: [{ shape: [2, 4, 4, 32], scale: 3 }, { shape: [32] }, { shape: [32] }], tol: 1e-5 },
  { name: 'groupNorm+SiLU, 8 groups of 8, odd H×W', ...gn(true, 8), specs: [{ shape: [3, 5, 3, 64], scale: 2 }, { shape: [64] }, { shape: [64] }], tol: 1e-5 },
  { name: 'groupNorm+SiLU, 32 groups, 16×16×64', ...gn(true, 32), specs: [{ shape: [2, 16, 16, 64] }, { shape: [64] }, { shape: [64] }], tol: 1e-5 },
  { name: 'groupNorm (no SiLU), 4 groups', ...gn(false, 4), specs: [{ shape: [2, 6, 6, 16] }, { shape: [16] }, { shape: [16] }], tol: 1e-5 },
  {
    name: 'silu',
    fast: (x) => siluFast(x),
    plain: (x) => siluPlain(x),
    specs: [{ shape: [3, 40], scale: 4 }],
    tol: 1e-5,
  },
  {
    name: 'upsample ×2, batch 3, odd sizes',
    fast: (x) => upsampleNearest2xFast(x as tf.Tensor4D),
    plain: (x) => upsampleNearest2xPlain(x as tf.Tensor4D),
    specs: [{ shape: [3, 5, 7, 4] }],
    tol: 1e-6,
  },
];

const worst: Record<string, Record<string, number[]>> = { cpu: {}, wasm: {} };

function check(be: 'cpu' | 'wasm', c: Case, cmp: { value: number; grads: number[] }) {
  worst[be][c.name] = [cmp.value, ...cmp.grads];
  expect(cmp.value, `${c.name}: value`).toBeLessThan(c.tol);
  cmp.grads.forEach((e, i) => expect(e, `${c.name}: grad of input ${i}`).toBeLessThan(c.tol * 10));
}

describe('fast ops on cpu vs plain tf ops and gradients on cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  for (const c of CASES) {
    it(c.name, async () => {
      const plain = await runOp('cpu', c.plain, c.specs, 21);
      const fast = await runOp('cpu', c.fast, c.specs, 21);
      check('cpu', c, compare(fast, plain));
    });
  }
});

describe('fast ops on wasm vs plain tf ops and gradients on cpu', () => {
  beforeAll(async () => {
    expect((await selectBackend('wasm')).tfBackend).toBe('wasm');
  });
  for (const c of CASES) {
    it(c.name, async () => {
      const plain = await runOp('cpu', c.plain, c.specs, 22);
      const fast = await runOp('wasm', c.fast, c.specs, 22);
      check('wasm', c, compare(fast, plain));
    });
  }
  it('attention and dense gradients on wasm use no transposed BatchMatMul', async () => {
    await tf.setBackend('wasm');
    const qkv = tf.randomNormal([2, 16, 24]);
    const w = tf.randomNormal([8, 8]);
    const x = tf.randomNormal([3, 8]);
    const kernels: { name: string; transposeA?: boolean; transposeB?: boolean; batch: number }[] = [];
    setNativeKernels(false); // the tfjs form of the fast ops (the native kernels run no BatchMatMul at all)
    const prof = await tf
      .profile(() =>
        tf.grads((a, b, c) => tf.add(tf.sum(attentionCoreFast(a as tf.Tensor3D, 2)), tf.sum(denseFast(c as tf.Tensor2D, b as tf.Tensor2D, null))))([qkv, w, x]),
      )
      .finally(() => setNativeKernels(true));
    for (const k of prof.kernels) {
      if (k.name === 'BatchMatMul') kernels.push({ name: k.name, batch: (k.inputShapes[0] as number[]).length === 3 ? (k.inputShapes[0] as number[])[0] : 1 });
    }
    expect(kernels.length).toBeGreaterThan(0);
    // tfjs records no attrs in profiles; 2-D inputs (batch 1) are the XNNPACK path.
    expect(kernels.every((k) => k.batch === 1)).toBe(true);
    tf.dispose([qkv, w, x, ...(prof.result as tf.Tensor[])]);
  });
  it('dense adds its residual inside the native product on wasm: no Add kernel, forward or backward', async () => {
    await tf.setBackend('wasm');
    const [x, w, r] = [tf.randomNormal([6, 8]), tf.randomNormal([8, 5]), tf.randomNormal([6, 5])];
    const prof = await tf.profile(() => tf.grads((a, b, c) => tf.sum(denseFast(a as tf.Tensor2D, b as tf.Tensor2D, null, c as tf.Tensor2D)))([x, w, r]));
    expect(prof.kernels.map((k) => k.name)).not.toContain('Add');
    const fused = denseFast(x as tf.Tensor2D, w as tf.Tensor2D, null, r as tf.Tensor2D);
    const apart = tf.tidy(() => tf.add(r, denseFast(x as tf.Tensor2D, w as tf.Tensor2D, null)));
    expect(Array.from(fused.dataSync()), 'same bits as the product then tf.add').toEqual(Array.from(apart.dataSync()));
    tf.dispose([x, w, r, fused, apart]);
  });
  it('siluFast runs one Sigmoid kernel each way and gives the bits of the tf kernel chain it replaces (wasm and cpu)', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await tf.setBackend(backend);
      // Values around 0 and in both tails, where the rounding of 1 − σ and x·(1 − σ) matters most.
      const rng = new Rng(5);
      const x = tf.tensor2d(Float32Array.from({ length: 2100 }, (_, i) => rng.normal() * (0.01 + (i % 300) / 15)), [7, 300]);
      const dy = tf.tensor2d(Float32Array.from({ length: 2100 }, () => rng.normal()), [7, 300]);
      // (a dy handed to tf.grad for a customOp's output is consumed: hand it a copy)
      const dyCopy = dy.clone();
      const prof = await tf.profile(() => tf.grad((a) => siluFast(a))(x, dyCopy));
      const grad = prof.result as tf.Tensor;
      // (the profile also lists our op itself, under its scope's name)
      const elementwise = ['Sigmoid', 'Multiply', 'Add', 'Sub', 'Identity'];
      expect(prof.kernels.map((k) => k.name).filter((n) => elementwise.includes(n))).toEqual(['Sigmoid', 'Sigmoid']);
      const bitsOf = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer));
      const value = siluFast(x);
      const chain = tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
      const chainGrad = tf.tidy(() => {
        const sg = tf.sigmoid(x);
        return tf.mul(dy, tf.mul(sg, tf.add(tf.mul(x, tf.sub(1, sg)), 1)));
      });
      expect(bitsOf(value), `${backend}: value`).toEqual(bitsOf(chain));
      expect(bitsOf(grad), `${backend}: gradient`).toEqual(bitsOf(chainGrad));
      tf.dispose([x, dy, grad, value, chain, chainGrad]);
    }
    await tf.setBackend('wasm');
  });
  afterAll(() => {
    for (const be of ['cpu', 'wasm']) {
      for (const [name, errs] of Object.entries(worst[be])) console.log(`${be} ${name}: [value, grads…] ${errs.map((e) => e.toExponential(1)).join(' ')}`);
    }
  });
});
