import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointConfigDifferences,
  readCheckpointInfo,
  readTrainCheckpoint,
  writeTrainCheckpoint,
} from '../../src-main/engine/checkpoint/trainCheckpoint';
import type { TrainEvent } from '../../src-main/engine/train/events';
import { Trainer, TrainingStoppedError } from '../../src-main/engine/train/trainer';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { setNativeKernels } from '../../src-main/engine/ops';
import { squaresData, tinyConfig } from './tinyRun';

let dir: string;
beforeAll(async () => {
  // wasm is what a CPU machine trains on; the exact-resume test switches to the deterministic cpu backend.
  await selectBackend('wasm');
  dir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-train-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trainer', () => {
  it('reports every step and keeps the tensor count flat over 50 steps (wasm, the CPU default)', async () => {
    const events: TrainEvent[] = [];
    const trainer = Trainer.create(tinyConfig(), squaresData(8, 1), { onEvent: (e) => events.push(e) });
    trainer.trainStep();
    trainer.trainStep();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 48; i++) trainer.trainStep();
    expect(tf.memory().numTensors).toBe(before);
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.step)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const first = steps[0];
    if (first.type !== 'step') throw new Error('unreachable');
    expect(first.vb).not.toBeNull();
    expect(first.gradNorm).toBeGreaterThan(0);
    expect(first.samplerWeights).toHaveLength(20);
    expect(first.quartiles.loss).toHaveLength(4);
    const losses = steps.map((e) => (e.type === 'step' ? e.mse : 0));
    const early = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
    const late = losses.slice(-10).reduce((a, b) => a + b) / 10;
    expect(late).toBeLessThan(early);
    trainer.dispose();
  });

  it('resumed from a checkpoint at step k, steps k+1…k+5 give the same losses as the run that never stopped (cpu)', async () => {
    await tf.setBackend('cpu');
    const cfg = tinyConfig({ model: { dropout: 0.1 }, training: { timestepSampler: 'loss-second-moment', emaRates: [0.9, 0.99] } });
    const data = squaresData(8, 1);
    const full: number[] = [];
    const a = Trainer.create(cfg, data, { onEvent: (e) => e.type === 'step' && e.step > 5 && full.push(e.loss) });
    for (let i = 0; i < 5; i++) a.trainStep();
    const file = path.join(dir, 'ckpt-5.safetensors');
    writeTrainCheckpoint(file, a.snapshot());
    for (let i = 0; i < 5; i++) a.trainStep();
    a.dispose();

    const resumedLosses: number[] = [];
    const snapshot = readTrainCheckpoint(file);
    expect(snapshot.step).toBe(5);
    const b = Trainer.create(snapshot.config, data, { onEvent: (e) => e.type === 'step' && resumedLosses.push(e.loss) }, snapshot);
    for (let i = 0; i < 5; i++) b.trainStep();
    b.dispose();
    expect(resumedLosses).toEqual(full);
    expect(readCheckpointInfo(file).emaRates).toEqual([0.9, 0.99]);
    await tf.setBackend('wasm');
  });

  it('names the option that differs when a checkpoint does not fit the run', () => {
    const diffs = checkpointConfigDifferences(tinyConfig(), tinyConfig({ model: { channels: 64 } }));
    expect(diffs).toEqual(['model.channels is 32 in the checkpoint but 64 in this run']);
  });

  it('microbatches give the same step as the whole batch', () => {
    const data = squaresData(8, 1);
    const losses = (microbatch: number) => {
      const out: number[] = [];
      const t = Trainer.create(tinyConfig({ training: { microbatch } }), data, { onEvent: (e) => e.type === 'step' && out.push(e.loss, e.gradNorm) });
      for (let i = 0; i < 3; i++) t.trainStep();
      t.dispose();
      return out;
    };
    const whole = losses(-1);
    const split = losses(2);
    split.forEach((v, i) => expect(v).toBeCloseTo(whole[i], 4));
  });

  it('takes the gradient norm from the native AdamW pass: no tfjs kernel squares or sums the flat gradient', async () => {
    const run = async (native: boolean) => {
      setNativeKernels(native);
      try {
        const norms: number[] = [];
        const t = Trainer.create(tinyConfig(), squaresData(8, 1), { onEvent: (e) => e.type === 'step' && norms.push(e.gradNorm) });
        t.trainStep();
        const info = await tf.profile(() => void t.trainStep());
        const total = t.layout.paramCount;
        t.dispose();
        const flatReads = info.kernels.filter((k) => (k.name === 'Square' || k.name === 'Sum') && k.inputShapes.some((s) => s?.length === 1 && s[0] === total));
        return { norms, flatReads: flatReads.map((k) => k.name) };
      } finally {
        setNativeKernels(true);
      }
    };
    const native = await run(true);
    const tfjs = await run(false);
    expect(native.flatReads).toEqual([]);
    expect(tfjs.flatReads).toContain('Sum'); // the norm's own pass (and the tfjs AdamW squares it again)
    native.norms.forEach((n, i) => expect(Math.abs(n - tfjs.norms[i]) / tfjs.norms[i]).toBeLessThan(1e-3));
  });

  it('estimates the gradient noise scale on its steps', () => {
    const events: TrainEvent[] = [];
    const t = Trainer.create(tinyConfig({ intervals: { gnsEvery: 2 } }), squaresData(8, 1), { onEvent: (e) => events.push(e) });
    for (let i = 0; i < 4; i++) t.trainStep();
    t.dispose();
    const gns = events.filter((e) => e.type === 'gns');
    expect(gns.map((e) => e.step)).toEqual([2, 4]);
    for (const g of gns) if (g.type === 'gns') expect(Number.isFinite(g.bSimple)).toBe(true);
  });

  it('evaluates per-t VLB terms and draws previews', async () => {
    const events: TrainEvent[] = [];
    const t = Trainer.create(tinyConfig({ intervals: { evalEvery: 2, previewEvery: 2 } }), squaresData(8, 1), {
      onEvent: (e) => events.push(e),
      vlbTimesteps: 20,
    });
    const before = tf.memory().numTensors;
    await t.run({ untilStep: 2 });
    expect(tf.memory().numTensors).toBe(before);
    const vlb = events.find((e) => e.type === 'vlbTerms');
    if (vlb?.type !== 'vlbTerms') throw new Error('no vlbTerms event');
    expect(vlb.timesteps).toHaveLength(20);
    expect(vlb.totalBpd).toBeGreaterThan(0);
    const preview = events.find((e) => e.type === 'preview');
    if (preview?.type !== 'preview') throw new Error('no preview event');
    expect(preview.pixels).toHaveLength(2 * 8 * 8);
    t.dispose();
  });

  it('skips non-finite losses and stops with a clear error after too many in a row', () => {
    const events: TrainEvent[] = [];
    const t = Trainer.create(tinyConfig(), squaresData(8, 1, 24, 4, true), { onEvent: (e) => events.push(e), maxConsecutiveNan: 3 });
    expect(t.trainStep()).toBeNull();
    expect(t.trainStep()).toBeNull();
    expect(() => t.trainStep()).toThrow(TrainingStoppedError);
    expect(() => t.trainStep()).toThrow(/NaN or infinite/);
    expect(events.filter((e) => e.type === 'nanSkipped')).toHaveLength(4);
    t.dispose();
  });
});
