/**
 * Precision of the native GroupNorm (native/src/groupnorm.cc), forward and every gradient, against float64
 * (./groupNormReference.ts) on the same float32 inputs, at a tolerance of a few float32 rounding units of each
 * output's scale. The hard cases are groups whose mean is large against their spread (|μ|/σ up to 6000), where
 * float running sums over H·W and the uncentred forms x·rγ + (β − μrγ) and Σ g·x − μ Σ g cancel; and long rows
 * (32×32) with a moderate offset, as in a real network. Both kernel sets (AVX2 and portable) run each case; the
 * bits must not depend on the thread count. Skipped when the addon is not built.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src-main/engine/native/loadNative';
import { setNativeThreads } from '../../src-main/engine/ops';
import { normals } from '../ops/gradCheck';
import { groupNormBackward64, groupNormForward64, normwiseError, type GroupNormProblem } from './groupNormReference';

const status = loadNative();
const addon = status.addon;
if (!addon) console.warn(`test/native/groupNormPrecision skipped: native kernels ${status.reason}`);

/** ~17 float32 rounding units (2⁻²⁴ each) of the output's largest magnitude. */
const TOL = 1e-6;

interface Shape {
  B: number;
  HW: number;
  C: number;
  G: number;
}

/** x = μ_g + σ·N(0, 1) with μ_g = mean·(1 + g/G) for group g (so each group has its own offset). */
function problem({ B, HW, C, G }: Shape, mean: number, sd: number, silu: boolean, scaleShift: boolean, seed: number): GroupNormProblem {
  const cg = C / G;
  const x = normals(B * HW * C, seed, sd).map((v, i) => v + mean * (1 + Math.floor((i % C) / cg) / G));
  return {
    x,
    gamma: normals(C, seed + 1, 0.3).map((v) => v + 1),
    beta: normals(C, seed + 2, 0.5),
    scale: scaleShift ? normals(B * C, seed + 3, 0.5) : undefined,
    shift: scaleShift ? normals(B * C, seed + 4) : undefined,
    B,
    HW,
    C,
    G,
    eps: 1e-5,
    silu,
  };
}

function forwardNative(p: GroupNormProblem) {
  const { B, HW, C, G } = p;
  const out = { y: new Float32Array(p.x.length), mean: new Float32Array(B * G), rstd: new Float32Array(B * G) };
  addon!.groupNormForward(p.x, p.gamma, p.beta, out.y, out.mean, out.rstd, B, HW, C, G, p.eps, p.silu, p.scale ?? null, p.shift ?? null);
  return out;
}

/** The backward pass from the given saved statistics. */
function backwardNative(p: GroupNormProblem, mean: Float32Array, rstd: Float32Array, dy: Float32Array) {
  const { B, HW, C, G } = p;
  const ss = p.scale !== undefined;
  const out = {
    dx: new Float32Array(p.x.length),
    dgamma: new Float32Array(C),
    dbeta: new Float32Array(C),
    dscale: ss ? new Float32Array(B * C) : null,
    dshift: ss ? new Float32Array(B * C) : null,
  };
  addon!.groupNormBackward(p.x, p.gamma, p.beta, mean, rstd, dy, out.dx, out.dgamma, out.dbeta, B, HW, C, G, p.silu, p.scale ?? null, p.shift ?? null, out.dscale, out.dshift);
  return out;
}

type NativeResult = ReturnType<typeof forwardNative> & ReturnType<typeof backwardNative>;

function runNative(p: GroupNormProblem, dy: Float32Array): NativeResult {
  const fwd = forwardNative(p);
  return { ...fwd, ...backwardNative(p, fwd.mean, fwd.rstd, dy) };
}

function expectWithin(errors: Record<string, number>): void {
  for (const [output, err] of Object.entries(errors)) expect(err, `${output}: |native − float64| / max|float64|`).toBeLessThan(TOL);
}

const CASES: [string, GroupNormProblem][] = [
  ['mean 0, σ 1 (control), SiLU', problem({ B: 2, HW: 64, C: 64, G: 32 }, 0, 1, true, false, 1)],
  ['mean 300, σ 0.05, 32 groups of 2', problem({ B: 2, HW: 64, C: 64, G: 32 }, 300, 0.05, false, false, 3)],
  ['mean 300, σ 0.05, 32 groups of 2, SiLU', problem({ B: 2, HW: 64, C: 64, G: 32 }, 300, 0.05, true, false, 5)],
  ['mean −300, σ 0.05, 7×7, 8 groups of 6, scale/shift, SiLU', problem({ B: 3, HW: 49, C: 48, G: 8 }, -300, 0.05, true, true, 7)],
  ['mean 20, σ 1, 32×32, 32 groups of 1, SiLU', problem({ B: 2, HW: 1024, C: 32, G: 32 }, 20, 1, true, false, 9)],
  ['mean 0.5, σ 0.6 (|μ|·r near 1), 5×3, C 12 in 4 groups, scale/shift, SiLU', problem({ B: 2, HW: 15, C: 12, G: 4 }, 0.5, 0.6, true, true, 11)],
];

describe.skipIf(!addon)('native GroupNorm against float64', () => {
  afterAll(() => addon?.setAvx2(true));

  for (const avx2 of [true, false]) {
    const kernels = avx2 ? 'AVX2' : 'portable';
    for (const [name, p] of CASES) {
      it(`${name} (${kernels} kernels): forward (y, mean, rstd) within ${TOL} of the output scale`, () => {
        addon!.setAvx2(avx2);
        const got = forwardNative(p);
        const ref = groupNormForward64(p);
        expectWithin({ y: normwiseError(got.y, ref.y), mean: normwiseError(got.mean, ref.mean), rstd: normwiseError(got.rstd, ref.rstd) });
      });

      it(`${name} (${kernels} kernels): every gradient within ${TOL} of its scale`, () => {
        addon!.setAvx2(avx2);
        // The saved statistics are the exact ones rounded to float32, so this checks the backward pass alone.
        const ref = groupNormForward64(p);
        const dy = normals(p.x.length, 99);
        const got = backwardNative(p, Float32Array.from(ref.mean), Float32Array.from(ref.rstd), dy);
        const grad = groupNormBackward64(p, dy);
        const errors: Record<string, number> = {
          dx: normwiseError(got.dx, grad.dx),
          dgamma: normwiseError(got.dgamma, grad.dgamma),
          dbeta: normwiseError(got.dbeta, grad.dbeta),
        };
        if (got.dscale) {
          errors.dscale = normwiseError(got.dscale, grad.dscale!);
          errors.dshift = normwiseError(got.dshift!, grad.dshift!);
        }
        expectWithin(errors);
      });
    }
  }

  it('gives the same bits on 1, 2 and 3 threads (images far from and near zero mean, both backward paths)', () => {
    const before = addon!.info().threads;
    // Images 1 and 3 are offset by 6000σ (the backward sums μ again for them), images 0, 2 and 4 are centred.
    const p = problem({ B: 5, HW: 49, C: 48, G: 8 }, 0, 1, true, true, 13);
    for (let i = 0; i < p.x.length; i++) if (Math.floor(i / (49 * 48)) % 2 === 1) p.x[i] = p.x[i] * 0.05 + 300;
    const dy = normals(p.x.length, 14);
    const bits = (r: NativeResult) => Object.values(r).map((a) => Buffer.from(a!.buffer));
    try {
      expect(setNativeThreads(1)).toBe(1);
      const one = bits(runNative(p, dy));
      for (const n of [2, 3]) {
        expect(setNativeThreads(n)).toBe(n);
        // The pool runs a kernel on one thread when that measured faster (a busy machine), so repeat until both
        // kernels have run on the threads at least once; every repeat must give the same bits.
        let parallelRuns = 0;
        for (let rep = 0; rep < 200 && parallelRuns < 2; rep++) {
          const runsBefore = addon!.info().parallelRuns;
          const got = bits(runNative(p, dy));
          parallelRuns += addon!.info().parallelRuns - runsBefore;
          got.forEach((b, i) => expect(Buffer.compare(b, one[i]), `output ${i} with ${n} threads`).toBe(0));
        }
        expect(parallelRuns, `GroupNorm ran on ${n} threads`).toBeGreaterThanOrEqual(2);
      }
    } finally {
      setNativeThreads(before);
    }
  });
});
