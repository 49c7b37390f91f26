/**
 * The native kernels in use: the whole UNet gives the same value and gradients with the addon on and off, kernel
 * mode 'plain' still means tf's own ops, the thread count can be overridden (and never changes a result), the
 * loader explains why it did not load, and the backend report says what runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBackend, selectBackend } from '../../src-main/engine/backend/selectBackend';
import { loadNative } from '../../src-main/engine/native/loadNative';
import { conv2d, setKernelMode, setNativeKernels, setNativeThreads } from '../../src-main/engine/ops';
import { opTimes, resetOpTimes, setOpTiming } from '../../src-main/engine/ops/opTimer';
import { buildLayout } from '../../src-main/engine/unet/layout';
import { unetForward } from '../../src-main/engine/unet/forward';
import { unetSpecFromConfig } from '../../src-main/engine/unet/spec';
import { fromReferenceLayout, type WeightMap } from '../../src-main/engine/unet/weights';
import { normals, relErr } from '../ops/gradCheck';
import { tinyConfig } from '../train/tinyRun';

const status = loadNative();
const addon = status.addon;

/** Deterministic non-trivial weights (the golden recipe: no zero-initialised output layers). */
function recipeWeights(layout: ReturnType<typeof buildLayout>): WeightMap {
  const weights: WeightMap = new Map();
  layout.params.forEach((p, i) => {
    const n = p.refShape.reduce((a, b) => a * b, 1);
    const fanIn = n / p.refShape[0];
    const data = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      const s = Math.sin(0.7 * j + 1.3 * (i + 1));
      data[j] = p.name.endsWith('.bias') ? 0.1 * s : p.refShape.length >= 2 ? s / Math.sqrt(fanIn) : 1 + 0.1 * s;
    }
    weights.set(p.name, fromReferenceLayout(p.kind, p.refShape, data));
  });
  return weights;
}

/** UNet value and the gradient of Σ out·R for every weight, on the current backend. */
function unetGrads(native: boolean) {
  setNativeKernels(native);
  try {
    const cfg = tinyConfig({ model: { imageSize: 8, imageChannels: 3, channels: 32, channelMult: [1, 2], attentionResolutions: [4], numHeads: 2 } });
    const layout = buildLayout(unetSpecFromConfig(cfg));
    const weights = recipeWeights(layout);
    const names = [...weights.keys()];
    const x = tf.tensor4d(normals(3 * 8 * 8 * 3, 5), [3, 8, 8, 3]);
    const t = tf.tensor1d([1, 7, 15]);
    const out = unetForward(layout, weights, x, t);
    const r = tf.tensor(normals(out.size, 6), out.shape);
    const f = (...ws: tf.Tensor[]) => {
      const m = new Map(names.map((n, i) => [n, ws[i]]));
      return tf.sum(tf.mul(unetForward(layout, m, x, t), r)) as tf.Scalar;
    };
    const grads = tf.grads(f)(names.map((n) => weights.get(n)!));
    const res = { value: out.dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array), names };
    tf.dispose([x, t, out, r, ...grads, ...weights.values()]);
    return res;
  } finally {
    setNativeKernels(true);
  }
}

describe.skipIf(!addon)('native kernels in the UNet', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('the whole UNet: same value and gradients with the addon on and off (cpu)', () => {
    setOpTiming(true);
    resetOpTimes();
    const on = unetGrads(true);
    const nativeRan = [...opTimes().keys()].filter((k) => k.startsWith('native'));
    resetOpTimes();
    const off = unetGrads(false);
    const tfjsRan = [...opTimes().keys()].filter((k) => k.startsWith('native'));
    setOpTiming(false);
    expect(nativeRan).toEqual(expect.arrayContaining(['native conv fwd', 'native conv dW', 'native attention bwd', 'native groupnorm bwd', 'native dense bwd']));
    expect(tfjsRan).toEqual([]);
    expect(relErr(on.value, off.value)).toBeLessThan(1e-5);
    // A conv bias feeding a GroupNorm with one channel per group has a true gradient of 0: both sides are rounding
    // noise there, so gradients far below the largest one are judged against that scale instead.
    const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const scale = Math.max(...off.grads.map(maxAbs));
    let worst = 0;
    on.grads.forEach((g, i) => {
      const ref = off.grads[i];
      const e = maxAbs(ref) < 1e-3 * scale ? maxAbs(g.map((v, j) => v - ref[j])) / scale : relErr(g, ref);
      worst = Math.max(worst, e);
      expect(e, `gradient of ${on.names[i]}`).toBeLessThan(1e-4);
    });
    console.log(`UNet native vs tfjs-fast: value ${relErr(on.value, off.value).toExponential(1)}, worst gradient ${worst.toExponential(1)}`);
  });

  it("kernel mode 'plain' forces tf's own ops even with the addon loaded", async () => {
    const x = tf.randomNormal([1, 5, 5, 2]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 2, 3]) as tf.Tensor4D;
    setOpTiming(true);
    resetOpTimes();
    try {
      setKernelMode('plain');
      const info = await tf.profile(() => tf.grads((a, b) => tf.sum(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, null, 1, 'same')))([x, w]));
      tf.dispose(info.result as tf.Tensor[]);
      expect(info.kernelNames).toContain('Conv2DBackpropFilter');
      expect([...opTimes().keys()].some((k) => k.startsWith('native'))).toBe(false);
      setKernelMode('auto');
      const g = tf.grads((a, b) => tf.sum(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, null, 1, 'same')))([x, w]);
      tf.dispose(g);
      expect(opTimes().has('native conv dW')).toBe(true);
    } finally {
      setKernelMode('auto');
      setOpTiming(false);
      tf.dispose([x, w]);
    }
  });

  it('results do not depend on the thread count (1, 2, 3 threads give identical bits)', () => {
    const a = addon!;
    const before = a.info().threads;
    const dims = [3, 11, 9, 40, 3, 3, 36, 1, 1, 1, 11, 9] as const;
    const x = normals(3 * 11 * 9 * 40, 1);
    const w = normals(9 * 40 * 36, 2, 0.2);
    const dy = normals(3 * 11 * 9 * 36, 3);
    const qkv = normals(2 * 49 * 3 * 64, 4);
    const run = () => {
      const y = new Float32Array(dy.length);
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      const db = new Float32Array(36);
      a.conv2dForward(x, w, null, y, ...dims);
      a.conv2dInputGrad(dy, w, dx, ...dims);
      a.conv2dFilterGrad(x, dy, dw, db, ...dims);
      const out = new Float32Array(2 * 49 * 64);
      const wts = new Float32Array(2 * 4 * 49 * 49);
      a.attentionForward(qkv, out, wts, 2, 49, 4, 16);
      const c = new Float32Array(99 * 36);
      a.matmul(dy.subarray(0, 99 * 40), w.subarray(0, 40 * 36), c, 99, 36, 40, false, false, false);
      return [y, dx, dw, db, out, wts, c];
    };
    try {
      expect(setNativeThreads(1)).toBe(1);
      const one = run();
      for (const n of [2, 3]) {
        expect(setNativeThreads(n)).toBe(n);
        expect(a.info().threads).toBe(n);
        run().forEach((arr, i) => expect(Buffer.compare(Buffer.from(arr.buffer), Buffer.from(one[i].buffer)), `output ${i} with ${n} threads`).toBe(0));
      }
    } finally {
      setNativeThreads(before);
    }
  });

  it('IDDPM_THREADS overrides the thread count (default: the physical cores)', () => {
    const script = `const m=require(${JSON.stringify(status.path)});const i=m.info();console.log(JSON.stringify(i))`;
    const info = (env: NodeJS.ProcessEnv) => {
      const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 20_000 });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { threads: number; physicalCores: number };
    };
    const base = { ...process.env };
    delete base.IDDPM_THREADS;
    const def = info(base);
    expect(def.threads).toBe(def.physicalCores);
    expect(info({ ...base, IDDPM_THREADS: '1' }).threads).toBe(1);
    expect(info({ ...base, IDDPM_THREADS: '3' }).threads).toBe(3);
    expect(info({ ...base, IDDPM_THREADS: 'junk' }).threads).toBe(def.physicalCores);
  });

  it('the addon checks array sizes and throws instead of touching foreign memory', () => {
    const a = addon!;
    expect(() => a.matmul(new Float32Array(5), new Float32Array(6), new Float32Array(4), 2, 2, 3, false, false, false)).toThrow(/a: expected 6 elements, got 5/);
    expect(() => a.conv2dForward(new Float32Array(10), new Float32Array(9), null, new Float32Array(1), 1, 3, 3, 1, 3, 3, 1, 1, 0, 0, 1, 1)).toThrow(/x: expected 9/);
    expect(() => a.sumRows(new Int32Array(4) as unknown as Float32Array, new Float32Array(2), 2, 2)).toThrow(/Float32Array/);
  });
});

describe('loading the native kernels', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-native-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('IDDPM_NATIVE=0 disables them, with the reason', () => {
    expect(loadNative({ ...process.env, IDDPM_NATIVE: '0' })).toEqual({ addon: null, reason: 'disabled by IDDPM_NATIVE=0', path: null });
  });

  it('a broken addon file gives null and a reason, never a throw', () => {
    const bogus = path.join(dir, 'iddpm_native.node');
    writeFileSync(bogus, 'not a shared object');
    const s = loadNative({ ...process.env, IDDPM_NATIVE: '1', IDDPM_NATIVE_PATH: bogus });
    expect(s.addon).toBeNull();
    expect(s.path).toBe(bogus);
    expect(s.reason).toMatch(/^failed to load .*iddpm_native\.node: .*\(rebuild with npm run build:native\)$/);
  });

  it.skipIf(!addon)('the backend report says what runs: "native kernels: N threads, AVX2" or why not', async () => {
    const report = await selectBackend('cpu');
    expect(report.native).toMatch(/^native kernels: \d+ threads?, (AVX-512|AVX2|portable kernels)/);
    expect(describeBackend(report)).toContain(`; ${report.native}`);
    setNativeKernels(false);
    try {
      expect((await selectBackend('cpu')).native).toBe('native kernels: off (disabled by setNativeKernels(false))');
    } finally {
      setNativeKernels(true);
    }
  });
});
