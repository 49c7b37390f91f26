/**
 * The AVX-512 kernels (12×32 tiles) give the AVX2 kernels' results bit for bit: every output element gets the same
 * FMAs in the same order, only more of them per instruction. Checked on shapes that exercise every edge: rows not a
 * multiple of 12 or 6, columns not a multiple of 32 or 16 (one strip left over, a few valid lanes), the filter
 * gradient's 3-channel first conv, strided convolutions, transposed matmuls, attention; at 1 and 2 threads.
 * Their correctness against tfjs's own kernels is kernels.test.ts's (which runs whichever kernels are in use).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative, type ConvDims, type NativeAddon } from '../../src-main/engine/native/loadNative';
import { normals } from '../ops/gradCheck';

const addon = loadNative().addon;
const hasAvx512 = !!addon?.info().cpuAvx512 && !!addon.setAvx512;
if (addon && !hasAvx512) console.log('avx512.test: skipped, this CPU has no AVX-512F (the AVX2 kernels run)');

/** Runs `fn` with the AVX-512 kernels on and off; returns both outputs' bits. */
function bothWays(a: NativeAddon, fn: () => Float32Array[]): { wide: Uint32Array[]; narrow: Uint32Array[] } {
  const copyBits = (xs: Float32Array[]) => xs.map((x) => new Uint32Array(Float32Array.from(x).buffer));
  expect(a.setAvx512!(true)).toBe(true);
  expect(a.info().microKernel).toBe('avx512 12x32');
  const wide = copyBits(fn());
  expect(a.setAvx512!(false)).toBe(false);
  expect(a.info().microKernel).toBe('avx2+fma 6x16');
  const narrow = copyBits(fn());
  a.setAvx512!(true);
  return { wide, narrow };
}

function expectSameBits(r: { wide: Uint32Array[]; narrow: Uint32Array[] }, label: string) {
  r.wide.forEach((w, i) => {
    const n = r.narrow[i];
    expect(w.length, `${label}: output ${i} length`).toBe(n.length);
    let differ = 0;
    for (let j = 0; j < w.length; j++) if (w[j] !== n[j]) differ++;
    expect(differ, `${label}: output ${i} elements that differ`).toBe(0);
    // Not all zeros: the kernels really wrote something.
    expect(w.some((b) => b !== 0), `${label}: output ${i} written`).toBe(true);
  });
}

interface ConvCase {
  b: number; h: number; w: number; ci: number; k: number; co: number; stride: number;
}
const CONV_CASES: ConvCase[] = [
  { b: 2, h: 16, w: 16, ci: 32, k: 3, co: 64, stride: 1 }, // two strips exactly, blocks of 48 rows in tasks
  { b: 1, h: 5, w: 7, ci: 3, k: 3, co: 40, stride: 1 }, // 35 rows (12·2 + 11), a pair of strips + one strip of 8
  { b: 3, h: 9, w: 9, ci: 40, k: 3, co: 6, stride: 1 }, // the output conv: one strip of 6 columns
  { b: 2, h: 8, w: 8, ci: 48, k: 3, co: 70, stride: 2 }, // downsample: strided input gradient
  { b: 2, h: 6, w: 10, ci: 17, k: 1, co: 33, stride: 1 }, // 1×1 skip conv, 33 = 32 + 1
];

function convDims(c: ConvCase): ConvDims {
  const pad = c.k === 3 ? 1 : 0;
  const ho = Math.floor((c.h + 2 * pad - c.k) / c.stride) + 1;
  const wo = Math.floor((c.w + 2 * pad - c.k) / c.stride) + 1;
  return [c.b, c.h, c.w, c.ci, c.k, c.k, c.co, c.stride, pad, pad, ho, wo];
}

describe.skipIf(!hasAvx512)('AVX-512 kernels give the AVX2 kernels\' bits', () => {
  const a = addon!;
  const threads0 = a.info().threads;
  afterAll(() => {
    a.setAvx512!(true);
    a.setThreads(threads0);
  });

  for (const threads of [1, 2]) {
    describe(`${threads} thread${threads === 1 ? '' : 's'}`, () => {
      for (const c of CONV_CASES) {
        const name = `conv ${c.b}×${c.h}×${c.w}×${c.ci} k${c.k} → ${c.co}, stride ${c.stride}`;
        it(`${name}: forward (+ bias, + residual), input gradient, filter gradient`, () => {
          a.setThreads(threads);
          const dims = convDims(c);
          const [, , , , , , , , , , ho, wo] = dims;
          const x = Float32Array.from(normals(c.b * c.h * c.w * c.ci, 1));
          const w = Float32Array.from(normals(c.k * c.k * c.ci * c.co, 2));
          const bias = Float32Array.from(normals(c.co, 3));
          const outSize = c.b * ho * wo * c.co;
          const dy = Float32Array.from(normals(outSize, 4));
          const residual = Float32Array.from(normals(outSize, 5));
          expectSameBits(bothWays(a, () => {
            const y = new Float32Array(outSize);
            a.conv2dForward(x, w, bias, y, ...dims);
            const y0 = new Float32Array(outSize);
            a.conv2dForward(x, w, null, y0, ...dims);
            const yr = new Float32Array(outSize);
            a.conv2dForwardAdd!(x, w, bias, residual, yr, ...dims);
            const dx = new Float32Array(x.length);
            a.conv2dInputGrad(dy, w, dx, ...dims);
            const dw = new Float32Array(w.length);
            const db = new Float32Array(c.co);
            a.conv2dFilterGrad(x, dy, dw, db, ...dims);
            return [y, y0, yr, dx, dw, db];
          }), name);
        });
      }

      it('matmul, every transpose, with and without accumulate and bias', () => {
        a.setThreads(threads);
        for (const [m, n, k] of [[37, 45, 29], [128, 96, 300], [12, 32, 16], [5, 3, 7]]) {
          const bias = Float32Array.from(normals(n, 9));
          for (const ta of [false, true]) {
            for (const tb of [false, true]) {
              const x = Float32Array.from(normals(m * k, 7));
              const y = Float32Array.from(normals(k * n, 8));
              const c0 = Float32Array.from(normals(m * n, 10));
              expectSameBits(bothWays(a, () => {
                const c = new Float32Array(m * n);
                a.matmul(x, y, c, m, n, k, ta, tb, false);
                const cb = new Float32Array(m * n);
                a.matmul(x, y, cb, m, n, k, ta, tb, false, bias);
                const ca = Float32Array.from(c0);
                a.matmul(x, y, ca, m, n, k, ta, tb, true);
                return [c, cb, ca];
              }), `matmul ${m}×${n}×${k} transA ${ta} transB ${tb}`);
            }
          }
        }
      });

      it('attention forward and backward (T not a multiple of 12, d of 16 and 40)', () => {
        a.setThreads(threads);
        for (const [b, t, heads, d] of [[2, 64, 1, 16], [1, 49, 2, 40]]) {
          const qkv = Float32Array.from(normals(b * t * 3 * heads * d, 11));
          const dy = Float32Array.from(normals(b * t * heads * d, 12));
          expectSameBits(bothWays(a, () => {
            const out = new Float32Array(b * t * heads * d);
            const weights = new Float32Array(b * heads * t * t);
            a.attentionForward(qkv, out, weights, b, t, heads, d);
            const dqkv = new Float32Array(qkv.length);
            a.attentionBackward(qkv, weights, dy, dqkv, b, t, heads, d);
            return [out, weights, dqkv];
          }), `attention B${b} T${t} heads ${heads} d ${d}`);
        }
      });
    });
  }

  it('IDDPM_NO_AVX512=1 turns them off in a new process (the AVX2 kernels run)', async () => {
    const { spawnSync } = await import('node:child_process');
    const file = loadNative().path!;
    const script = `const m=require(${JSON.stringify(file)});console.log(m.info().microKernel)`;
    const on = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, IDDPM_NO_AVX512: '' } });
    const off = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, IDDPM_NO_AVX512: '1' } });
    expect(on.stdout.trim()).toBe('avx512 12x32');
    expect(off.stdout.trim()).toBe('avx2+fma 6x16');
  });
});
