/**
 * The native kernels (native/, via src-main/engine/ops/native.ts) against tf's plain ops and built-in gradients on
 * the cpu backend: every kernel, forward and every gradient, stride 1/2, 'same'/'valid'/explicit padding, odd
 * sizes, batch > 1; with the AVX2 micro-kernels and with the portable ones; and through the wasm heap.
 * Skipped (with the reason) when the addon is not built.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { loadNative } from '../../src-main/engine/native/loadNative';
import {
  attentionCoreFast,
  attentionCorePlain,
  conv2dFast,
  conv2dPlain,
  denseFast,
  densePlain,
  groupNormFast,
  groupNormPlain,
  groupNormScaleShiftSilu,
  groupNormSiluPlain,
  setNativeKernels,
  siluPlain,
  type Conv2dPadding,
} from '../../src-main/engine/ops';
import { opTimes, resetOpTimes, setOpTiming } from '../../src-main/engine/ops/opTimer';
import { compare, runOp, type Spec } from '../ops/gradCheck';

const status = loadNative();
const addon = status.addon;
if (!addon) console.warn(`test/native skipped: native kernels ${status.reason}`);

type Op = (...xs: tf.Tensor[]) => tf.Tensor;
interface Case {
  name: string;
  fast: Op;
  plain: Op;
  specs: Spec[];
  /** the opTimer category the native path records ('native conv fwd', …) */
  native: string;
  /** value tolerance; gradients get 10× (filter/weight sums are long) */
  tol: number;
}

function conv(name: string, x: number[], k: number, co: number, stride: number, padding: Conv2dPadding, bias: boolean): Case {
  const specs: Spec[] = [{ shape: x }, { shape: [k, k, x[3], co], scale: 0.3 }];
  if (bias) specs.push({ shape: [co] });
  const pointwise = k === 1 && stride === 1 && (padding === 'valid' || padding === 'same');
  const op = (impl: typeof conv2dFast) => (a: tf.Tensor, w: tf.Tensor, b?: tf.Tensor) =>
    impl(a as tf.Tensor4D, w as tf.Tensor4D, (b ?? null) as tf.Tensor1D | null, stride, padding);
  return { name: `conv ${name}`, fast: op(conv2dFast), plain: op(conv2dPlain), specs, native: pointwise ? 'native conv1x1 fwd' : 'native conv fwd', tol: 1e-5 };
}

function gn(name: string, x: number[], groups: number, silu: boolean): Case {
  const c = x[3];
  return {
    name: `groupNorm${silu ? '+SiLU' : ''} ${name}`,
    fast: (a, g, b) => groupNormFast(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, groups, 1e-5, silu),
    plain: (a, g, b) => (silu ? groupNormSiluPlain : groupNormPlain)(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, groups, 1e-5),
    specs: [{ shape: x, scale: 2 }, { shape: [c] }, { shape: [c] }],
    native: 'native groupnorm fwd',
    tol: 1e-5,
  };
}

function gnScaleShift(name: string, x: number[], groups: number): Case {
  const [b, , , c] = x;
  return {
    name: `groupNorm·(1+scale)+shift, SiLU ${name}`,
    fast: (a, g, be, s, t) => groupNormScaleShiftSilu(a as tf.Tensor4D, g as tf.Tensor1D, be as tf.Tensor1D, s as tf.Tensor2D, t as tf.Tensor2D, groups),
    plain: (a, g, be, s, t) =>
      tf.tidy(() =>
        siluPlain(
          tf.add(
            tf.mul(groupNormPlain(a as tf.Tensor4D, g as tf.Tensor1D, be as tf.Tensor1D, groups), tf.add(tf.reshape(s, [b, 1, 1, c]), 1)),
            tf.reshape(t, [b, 1, 1, c]),
          ),
        ),
      ),
    specs: [{ shape: x, scale: 2 }, { shape: [c] }, { shape: [c] }, { shape: [b, c], scale: 0.5 }, { shape: [b, c] }],
    native: 'native groupnorm fwd',
    tol: 1e-5,
  };
}

function attn(name: string, shape: number[], heads: number, scale = 1): Case {
  return {
    name: `attention ${name}`,
    fast: (q) => attentionCoreFast(q as tf.Tensor3D, heads),
    plain: (q) => attentionCorePlain(q as tf.Tensor3D, heads),
    specs: [{ shape, scale }],
    native: 'native attention fwd',
    tol: 1e-5,
  };
}

function dense(name: string, n: number, k: number, m: number, bias: boolean): Case {
  const specs: Spec[] = [{ shape: [n, k] }, { shape: [k, m], scale: 0.3 }];
  if (bias) specs.push({ shape: [m] });
  return {
    name: `dense ${name}`,
    fast: (x, w, b) => denseFast(x as tf.Tensor2D, w as tf.Tensor2D, (b ?? null) as tf.Tensor1D | null),
    plain: (x, w, b) => densePlain(x as tf.Tensor2D, w as tf.Tensor2D, (b ?? null) as tf.Tensor1D | null),
    specs,
    native: 'native dense fwd',
    tol: 1e-5,
  };
}

const CASES: Case[] = [
  conv('3×3 same, B2 8×8, 3 → 4, bias', [2, 8, 8, 3], 3, 4, 1, 'same', true),
  conv('3×3 same, odd 7×7, 5 → 4', [3, 7, 7, 5], 3, 4, 1, 'same', false),
  conv('3×3 stride 2 pad 1, even', [2, 8, 8, 4], 3, 6, 2, [[1, 1], [1, 1]], true),
  conv('3×3 stride 2 pad 1, odd non-square', [3, 7, 9, 4], 3, 5, 2, [[1, 1], [1, 1]], true),
  conv('3×3 stride 2 valid, odd', [2, 9, 9, 4], 3, 5, 2, 'valid', true),
  conv('3×3 stride 2 valid, even (unused last row)', [2, 8, 8, 4], 3, 5, 2, 'valid', false),
  conv('3×3 stride 2 TF same', [2, 8, 8, 4], 3, 5, 2, 'same', true),
  conv('3×3 valid stride 1', [2, 6, 7, 3], 3, 4, 1, 'valid', true),
  conv('1×1 (pointwise)', [2, 8, 8, 4], 1, 6, 1, 'valid', true),
  conv('1×1 stride 2', [2, 8, 8, 4], 1, 5, 2, 'valid', true),
  conv('3×3 asymmetric explicit padding', [2, 6, 5, 4], 3, 5, 1, [[2, 0], [0, 3]], true),
  conv('5×5 stride 3 explicit', [2, 6, 5, 4], 5, 3, 3, [[2, 1], [1, 2]], false),
  conv('3×3 stride 2, padding larger than needed', [2, 10, 10, 4], 3, 5, 2, [[0, 5], [4, 0]], false),
  conv('3×3 same, full tiles (B2 8×8, 32 → 48)', [2, 8, 8, 32], 3, 48, 1, [[1, 1], [1, 1]], true),
  conv('3×3 stride 2, 32 → 32 (B3 9×9)', [3, 9, 9, 32], 3, 32, 2, [[1, 1], [1, 1]], true),
  conv('1×1 skip, 48 → 32 (B2 5×5)', [2, 5, 5, 48], 1, 32, 1, 'valid', true),
  dense('with bias', 5, 12, 7, true),
  dense('without bias, batch 1', 1, 16, 9, false),
  dense('qkv-like 70 × 32 → 96', 70, 32, 96, true),
  attn('1 head, B2, T16, C8', [2, 16, 24], 1),
  attn('4 heads, B3, T9 (odd), C16', [3, 9, 48], 4, 2),
  attn('4 heads, B2, T64, C64', [2, 64, 192], 4),
  attn('3 heads, B1, T25, d 5', [1, 25, 45], 3),
  gn('32 groups of 1', [2, 4, 4, 32], 32, true),
  gn('8 groups of 8, odd H×W', [3, 5, 3, 64], 8, true),
  gn('4 groups, C 12 (not a multiple of 8)', [2, 3, 3, 12], 4, true),
  gn('32 groups, 8×8×64', [2, 8, 8, 64], 32, false),
  gnScaleShift('32 groups of 1, B3 4×4', [3, 4, 4, 32], 32),
  gnScaleShift('8 groups of 8, odd 5×3, B2', [2, 5, 3, 64], 8),
  gnScaleShift('4 groups, C 12', [2, 3, 3, 12], 4),
];

/** Runs the fast op on `backend` and checks that its native path ran. */
async function runNativeFast(backend: string, c: Case, seed: number) {
  setOpTiming(true);
  resetOpTimes();
  try {
    const res = await runOp(backend, c.fast, c.specs, seed);
    expect(opTimes().has(c.native), `${c.name}: native path taken on ${backend}`).toBe(true);
    return res;
  } finally {
    setOpTiming(false);
  }
}

function expectClose(c: Case, cmp: { value: number; grads: number[] }, label: string) {
  expect(cmp.value, `${label} ${c.name}: value`).toBeLessThan(c.tol);
  cmp.grads.forEach((e, i) => expect(e, `${label} ${c.name}: grad of input ${i}`).toBeLessThan(c.tol * 10));
}

const worst: Record<string, number[]> = {};
afterAll(() => {
  for (const [k, v] of Object.entries(worst)) console.log(`native ${k}: worst relative error value ${v[0].toExponential(1)}, grads ${v[1].toExponential(1)}`);
});
function track(label: string, cmp: { value: number; grads: number[] }) {
  const w = (worst[label] ??= [0, 0]);
  w[0] = Math.max(w[0], cmp.value);
  w[1] = Math.max(w[1], ...cmp.grads);
}

describe.skipIf(!addon)('native kernels vs tf plain ops on cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    setNativeKernels(true);
  });
  afterAll(() => {
    addon?.setAvx2(true);
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const plain = await runOp('cpu', c.plain, c.specs, 31);
      addon!.setAvx2(true);
      const fast = await runNativeFast('cpu', c, 31);
      const cmp = compare(fast, plain);
      track(addon!.info().avx2 ? 'avx2' : 'portable', cmp);
      expectClose(c, cmp, addon!.info().microKernel);
      // The portable micro-kernels (machines without AVX2) on the same data.
      addon!.setAvx2(false);
      try {
        const portable = compare(await runNativeFast('cpu', c, 31), plain);
        track('portable', portable);
        expectClose(c, portable, 'portable');
      } finally {
        addon!.setAvx2(true);
      }
    });
  }
});

describe.skipIf(!addon)('native kernels on the wasm backend (heap in place) vs tf plain ops on cpu', () => {
  beforeAll(async () => {
    expect((await selectBackend('wasm')).tfBackend).toBe('wasm');
  });
  for (const c of CASES.filter((_, i) => i % 3 === 0)) {
    it(c.name, async () => {
      const plain = await runOp('cpu', c.plain, c.specs, 32);
      const fast = await runNativeFast('wasm', c, 32);
      const cmp = compare(fast, plain);
      track('wasm heap', cmp);
      expectClose(c, cmp, 'wasm');
    });
  }
});
