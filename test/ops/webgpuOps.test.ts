/**
 * Every op the UNet is built from, as the engine dispatches it on the webgpu backend (tf's ops and built-in
 * gradients, run by tfjs-backend-webgpu's kernels), against tf's plain ops and gradients on the cpu backend.
 *
 * Measured as in ops.test.ts: for the value y and for d(Σ y·R)/d input (R a seeded random tensor), the error is
 * max |webgpu − cpu| / max |cpu| over all elements, and must stay ≤ 1e-4. Runs on Chromium's SwiftShader adapter
 * (see ../backend/softwareWebGpu.ts); shapes are small because SwiftShader runs on the CPU.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attentionCore,
  attentionCorePlain,
  conv2d,
  conv2dPlain,
  dense,
  densePlain,
  groupNorm,
  groupNormPlain,
  groupNormScaleShiftSilu,
  groupNormSilu,
  groupNormSiluPlain,
  silu,
  siluPlain,
  upsampleNearest2x,
  upsampleNearest2xPlain,
  useFastKernels,
} from '../../src-main/engine/ops';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { softwareWebGpu } from '../backend/softwareWebGpu';
import { compare, runOp, type Spec } from './gradCheck';

type Op = (...xs: tf.Tensor[]) => tf.Tensor;
interface Case {
  name: string;
  /** as the engine calls it (dispatching on the active backend) */
  op: Op;
  /** tf's plain ops, the reference on cpu */
  reference: Op;
  specs: Spec[];
}

const T4 = (t: tf.Tensor) => t as tf.Tensor4D;
const T1 = (t: tf.Tensor) => t as tf.Tensor1D;
const T2 = (t: tf.Tensor) => t as tf.Tensor2D;

const CASES: Case[] = [
  {
    name: 'conv2d 3×3 same, bias',
    op: (x, w, b) => conv2d(T4(x), T4(w), T1(b), 1, 'same'),
    reference: (x, w, b) => conv2dPlain(T4(x), T4(w), T1(b), 1, 'same'),
    specs: [{ shape: [2, 6, 6, 4] }, { shape: [3, 3, 4, 8], scale: 0.3 }, { shape: [8] }],
  },
  {
    name: 'conv2d 3×3 stride 2, padding [[1,1],[1,1]] (downsample)',
    op: (x, w, b) => conv2d(T4(x), T4(w), T1(b), 2, [[1, 1], [1, 1]]),
    reference: (x, w, b) => conv2dPlain(T4(x), T4(w), T1(b), 2, [[1, 1], [1, 1]]),
    specs: [{ shape: [2, 8, 8, 4] }, { shape: [3, 3, 4, 4], scale: 0.3 }, { shape: [4] }],
  },
  {
    name: 'conv2d 1×1 (skip connection), no bias',
    op: (x, w) => conv2d(T4(x), T4(w), null, 1, 'valid'),
    reference: (x, w) => conv2dPlain(T4(x), T4(w), null, 1, 'valid'),
    specs: [{ shape: [2, 4, 4, 8] }, { shape: [1, 1, 8, 6], scale: 0.3 }],
  },
  {
    name: 'dense with bias',
    op: (x, w, b) => dense(T2(x), T2(w), T1(b)),
    reference: (x, w, b) => densePlain(T2(x), T2(w), T1(b)),
    specs: [{ shape: [5, 12] }, { shape: [12, 7], scale: 0.3 }, { shape: [7] }],
  },
  {
    name: 'attention, 2 heads, B 2, T 16, C 16',
    op: (x) => attentionCore(x as tf.Tensor3D, 2),
    reference: (x) => attentionCorePlain(x as tf.Tensor3D, 2),
    specs: [{ shape: [2, 16, 48] }],
  },
  {
    name: 'groupNorm, 4 groups',
    op: (x, g, b) => groupNorm(T4(x), T1(g), T1(b), 4),
    reference: (x, g, b) => groupNormPlain(T4(x), T1(g), T1(b), 4, 1e-5),
    specs: [{ shape: [2, 5, 3, 16], scale: 2 }, { shape: [16] }, { shape: [16] }],
  },
  {
    name: 'groupNorm+SiLU, 8 groups',
    op: (x, g, b) => groupNormSilu(T4(x), T1(g), T1(b), 8),
    reference: (x, g, b) => groupNormSiluPlain(T4(x), T1(g), T1(b), 8, 1e-5),
    specs: [{ shape: [2, 4, 4, 16], scale: 3 }, { shape: [16] }, { shape: [16] }],
  },
  {
    name: 'groupNorm+scale/shift+SiLU, 4 groups',
    op: (x, g, b, s, h) => groupNormScaleShiftSilu(T4(x), T1(g), T1(b), T2(s), T2(h), 4),
    reference: (x, g, b, s, h) =>
      tf.tidy(() => {
        const normed = groupNormPlain(T4(x), T1(g), T1(b), 4, 1e-5);
        return siluPlain(tf.add(tf.mul(normed, tf.reshape(tf.add(s, 1), [2, 1, 1, 8])), tf.reshape(h, [2, 1, 1, 8])));
      }),
    specs: [{ shape: [2, 4, 4, 8] }, { shape: [8] }, { shape: [8] }, { shape: [2, 8], scale: 0.5 }, { shape: [2, 8] }],
  },
  {
    name: 'silu',
    op: (x) => silu(x),
    reference: (x) => siluPlain(x),
    specs: [{ shape: [3, 40], scale: 4 }],
  },
  {
    name: 'upsample ×2, batch 3, odd sizes',
    op: (x) => upsampleNearest2x(T4(x)),
    reference: (x) => upsampleNearest2xPlain(T4(x)),
    specs: [{ shape: [3, 5, 7, 4] }],
  },
];

const TOL = 1e-4;
const gpu = await softwareWebGpu();
const measured: string[] = [];

describe.skipIf(gpu.skip !== null)('ops on webgpu vs tf plain ops on cpu (relative error ≤ 1e-4)', () => {
  beforeAll(async () => {
    expect((await selectBackend('webgpu')).tfBackend).toBe('webgpu');
    expect(useFastKernels()).toBe(false); // webgpu runs tf's ops and gradients
  });
  afterAll(() => {
    if (measured.length) console.log(`webgpu vs cpu, max relative error (value; gradients):\n${measured.join('\n')}`);
  });
  for (const c of CASES) {
    it(c.name, async () => {
      const ref = await runOp('cpu', c.reference, c.specs, 31);
      const got = await runOp('webgpu', c.op, c.specs, 31);
      const cmp = compare(got, ref);
      measured.push(`  ${c.name}: ${cmp.value.toExponential(1)}; ${cmp.grads.map((e) => e.toExponential(1)).join(', ')}`);
      expect(cmp.value, `${c.name}: value`).toBeLessThanOrEqual(TOL);
      cmp.grads.forEach((e, i) => expect(e, `${c.name}: gradient of input ${i}`).toBeLessThanOrEqual(TOL));
    });
  }
});
