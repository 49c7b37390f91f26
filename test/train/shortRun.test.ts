/**
 * A short run must show what it learned (issue 12): the EMA warm-up, the default weights while an EMA is
 * still mostly the random initialisation, and the preview/VLB/checkpoint at the last step of a run
 * shorter than its intervals. Real trainer on tiny configs, real checkpoint files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { readCheckpointWeights, readTrainCheckpoint, writeTrainCheckpoint } from '../../src-main/engine/checkpoint/trainCheckpoint';
import type { TrainEvent } from '../../src-main/engine/train/events';
import { Trainer } from '../../src-main/engine/train/trainer';
import { disposeWeights } from '../../src-main/engine/unet/weights';
import { getPreset, PRESET_IDS } from '../../src-shared/config/presets';
import { intervalWarnings } from '../../src-shared/config/intervalWarnings';
import { validateRunConfig } from '../../src-shared/config/validate';
import { defaultWeights, effectiveEmaRate, formatShare, initialWeightShare } from '../../src-shared/emaWeights';
import { squaresData, tinyConfig } from './tinyRun';

let dir: string;
beforeAll(async () => {
  // wasm is the CPU machine's backend; the exact-resume test switches to the deterministic cpu backend.
  await selectBackend('wasm');
  dir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-short-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('EMA warm-up and the initial weights’ share', () => {
  it('computes the share as the product of the effective rates', () => {
    expect(initialWeightShare(0.995, 200, false)).toBeCloseTo(0.995 ** 200, 12); // the 37%
    expect(initialWeightShare(0.995, 200, false)).toBeCloseTo(0.367, 3);
    let product = 1;
    for (let k = 0; k < 300; k++) product *= effectiveEmaRate(0.995, k, true);
    expect(initialWeightShare(0.995, 300, true)).toBeCloseTo(product, 20);
    expect(effectiveEmaRate(0.995, 0, true)).toBeCloseTo(0.1, 12);
    expect(effectiveEmaRate(0.995, 5000, true)).toBe(0.995);
    expect(initialWeightShare(0.995, 10, true)).toBeLessThan(1e-4);
    expect(initialWeightShare(0.9999, 0, true)).toBe(1);
    expect([0.367, 0.007, 0.00001].map(formatShare)).toEqual(['37%', '0.7%', '<0.1%']);
  });

  it('defaults to the raw weights while the EMA holds more than 10% of the initial weights', () => {
    const early = defaultWeights([0.995], 200, false);
    expect(early.emaRate).toBeNull();
    expect(early.reason).toBe('raw weights: the EMA 0.995 still holds 37% of the random initial weights at step 200 (above 10%)');
    expect(defaultWeights([0.995], 1000, false).emaRate).toBe(0.995);
    expect(defaultWeights([0.995], 200, true).emaRate).toBe(0.995);
    expect(defaultWeights([], 200, true)).toMatchObject({ emaRate: null, initialShare: null });
  });

  it('is on for the quick presets and off for the paper presets; every preset still validates', () => {
    const quick = ['mnist-quick', 'tiny-test', 'linear-baseline'];
    for (const id of PRESET_IDS) {
      const cfg = getPreset(id).config;
      expect(cfg.training.emaWarmup, id).toBe(quick.includes(id));
      expect(validateRunConfig(cfg), id).toEqual([]);
    }
  });

  it('the trainer’s EMA follows θ_ema ← r_k θ_ema + (1−r_k) θ with the warm-up rates, and resumes exactly', async () => {
    await tf.setBackend('cpu');
    // One level, no attention: the smallest UNet, so the deterministic cpu backend stays quick.
    const small = { channelMult: [1], attentionResolutions: [] };
    const cfg = tinyConfig({ model: small, training: { emaRates: [0.99], emaWarmup: true } });
    const data = squaresData(8, 1);
    const a = Trainer.create(cfg, data);
    // θ_ema after 3 steps from the raw weights after each step.
    const raws: Float32Array[] = [Float32Array.from(a.snapshot().params)];
    for (let i = 0; i < 3; i++) {
      a.trainStep();
      raws.push(Float32Array.from(a.snapshot().params));
    }
    const expected = Float64Array.from(raws[0]);
    for (let k = 0; k < 3; k++) {
      const r = effectiveEmaRate(0.99, k, true);
      for (let i = 0; i < expected.length; i++) expected[i] = r * expected[i] + (1 - r) * raws[k + 1][i];
    }
    const ema = a.snapshot().ema.get(0.99)!;
    let err = 0;
    for (let i = 0; i < ema.length; i++) err = Math.max(err, Math.abs(ema[i] - expected[i]));
    expect(err).toBeLessThan(1e-5);
    // Without the warm-up the same steps leave the EMA far closer to the initial weights.
    const noWarm = Trainer.create(tinyConfig({ model: small, training: { emaRates: [0.99], emaWarmup: false } }), data);
    for (let i = 0; i < 3; i++) noWarm.trainStep();
    const distance = (x: Float32Array) => Math.sqrt(x.reduce((s, v, i) => s + (v - raws[0][i]) ** 2, 0));
    expect(distance(noWarm.snapshot().ema.get(0.99)!)).toBeLessThan(0.1 * distance(ema));
    noWarm.dispose();

    // Exact resume: the EMA's rates depend on the step, which the checkpoint keeps.
    const file = path.join(dir, 'warm-3.safetensors');
    writeTrainCheckpoint(file, a.snapshot());
    for (let i = 0; i < 3; i++) a.trainStep();
    const b = Trainer.create(cfg, data, {}, readTrainCheckpoint(file));
    for (let i = 0; i < 3; i++) b.trainStep();
    expect(b.snapshot().ema.get(0.99)).toEqual(a.snapshot().ema.get(0.99));
    a.dispose();
    b.dispose();
    await tf.setBackend('wasm');
  });
});

describe('weights used by previews, evaluation and checkpoints', () => {
  it('previews and the VLB snapshot use the raw weights while the EMA is mostly initial weights, and say so', async () => {
    const events: TrainEvent[] = [];
    const t = Trainer.create(tinyConfig({ training: { emaRates: [0.995] }, intervals: { previewEvery: 2, evalEvery: 2 } }), squaresData(8, 1), {
      onEvent: (e) => events.push(e),
      vlbTimesteps: 5,
    });
    await t.run({ untilStep: 2 });
    const preview = events.find((e) => e.type === 'preview');
    const vlb = events.find((e) => e.type === 'vlbTerms');
    if (preview?.type !== 'preview' || vlb?.type !== 'vlbTerms') throw new Error('no preview or VLB event');
    expect(preview.emaRate).toBeNull();
    expect(preview.weightsWhy).toMatch(/^raw weights: the EMA 0.995 still holds 99% of the random initial weights at step 2/);
    expect(vlb.weights).toBe('raw');

    // The checkpoint's default weights follow the same rule; an explicit EMA is honoured with a warning.
    const file = path.join(dir, 'early-2.safetensors');
    writeTrainCheckpoint(file, t.snapshot());
    t.dispose();
    const def = readCheckpointWeights(file, undefined);
    expect(def.emaRate).toBeNull();
    expect(def.choice.initialShare).toBeCloseTo(0.995 ** 2, 12);
    disposeWeights(def.weights);
    const asked = readCheckpointWeights(file, 0.995);
    expect(asked.emaRate).toBe(0.995);
    expect(asked.choice.reason).toMatch(/as asked; it still holds 99% .* the raw weights may sample better/);
    disposeWeights(asked.weights);
  });

  it('with the warm-up the EMA is the default after a few steps', async () => {
    const events: TrainEvent[] = [];
    const t = Trainer.create(tinyConfig({ training: { emaRates: [0.995], emaWarmup: true }, intervals: { previewEvery: 6 } }), squaresData(8, 1), {
      onEvent: (e) => events.push(e),
    });
    await t.run({ untilStep: 6 });
    t.dispose();
    const preview = events.find((e) => e.type === 'preview');
    if (preview?.type !== 'preview') throw new Error('no preview');
    expect(preview.emaRate).toBe(0.995);
    expect(preview.weightsWhy).toBe('EMA 0.995 (holds <0.1% of the initial weights at step 6)');
  });
});

describe('the last step of a run shorter than its intervals', () => {
  it('previews, evaluates and checkpoints at the last step; the form warns about the intervals', async () => {
    const cfg = tinyConfig({ training: { maxSteps: 3 }, intervals: { previewEvery: 250, evalEvery: 1000, checkpointEvery: 500, gnsEvery: 0 } });
    const events: TrainEvent[] = [];
    const t = Trainer.create(cfg, squaresData(8, 1), { onEvent: (e) => events.push(e), vlbTimesteps: 5, vlbImages: 2 });
    const checkpoints: number[] = [];
    await t.run({ onCheckpointDue: (tr) => void checkpoints.push(tr.step) });
    t.dispose();
    expect(events.filter((e) => e.type === 'preview').map((e) => e.step)).toEqual([3]);
    expect(events.filter((e) => e.type === 'vlbTerms').map((e) => e.step)).toEqual([3]);
    expect(checkpoints).toEqual([3]);
    // Work that is off stays off.
    const off = tinyConfig({ training: { maxSteps: 2 }, intervals: { previewEvery: 0, evalEvery: 0, checkpointEvery: 0 } });
    const quiet: TrainEvent[] = [];
    const u = Trainer.create(off, squaresData(8, 1), { onEvent: (e) => quiet.push(e) });
    const none: number[] = [];
    await u.run({ onCheckpointDue: (tr) => void none.push(tr.step) });
    u.dispose();
    expect(quiet.filter((e) => e.type === 'preview' || e.type === 'vlbTerms')).toEqual([]);
    expect(none).toEqual([]);

    const warnings = intervalWarnings(cfg);
    expect(warnings.map((w) => w.field)).toEqual(['intervals.previewEvery', 'intervals.evalEvery', 'intervals.checkpointEvery']);
    expect(warnings[0].message).toBe('previews every 250 steps, but the run stops after 3: there will be one, at the last step; set at most 3 for more.');
    expect(intervalWarnings({ ...cfg, training: { ...cfg.training, maxSteps: undefined } })).toEqual([]);
    expect(intervalWarnings({ ...cfg, intervals: { ...cfg.intervals, gnsEvery: 10 } }).at(-1)?.message).toMatch(/gradient noise scale .* there will be none/);
  });

});
