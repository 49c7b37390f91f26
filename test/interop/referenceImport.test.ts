/**
 * Importing a real reference run (test/fixtures/reference/logdir, written by the authors' TrainLoop under
 * PyTorch): config from flags + tensor shapes, checkpoints that give the reference's UNet output and keep
 * training, progress rows and the sample batch in a real SQLite store.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readCheckpointWeights, readTrainCheckpoint } from '../../src-main/engine/checkpoint/trainCheckpoint';
import { unetForward } from '../../src-main/engine/unet/forward';
import { disposeWeights } from '../../src-main/engine/unet/weights';
import { Trainer } from '../../src-main/engine/train/trainer';
import { runSampleJob } from '../../src-main/runs/sampleJob';
import { IMPORT_RECORD, importReferenceRun } from '../../src-main/runs/referenceImport';
import { expectClose, useCpuBackend } from '../golden/goldenFile';
import { tempStore, type TempStore } from '../store/helpers';
import { squaresData } from '../train/tinyRun';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'reference');
const LOGDIR = path.join(FIXTURES, 'logdir');
const FLAGS = { num_heads: '2', diffusion_steps: '50', noise_schedule: 'cosine', lr: '1e-3', batch_size: '4', lr_anneal_steps: '4' };

interface UnetOutputs {
  input_shape: [number, number, number, number];
  x: number[];
  model_timesteps: number[];
  model: { output: number[] };
  ema: { output: number[] };
}
const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'unet_output.json'), 'utf8')) as UnetOutputs;

/** The imported checkpoint's network on the fixture's input, NCHW like PyTorch's output. */
function forwardNchw(file: string, emaRate: number | null): Float32Array {
  const { layout, weights } = readCheckpointWeights(file, emaRate);
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d(expected.x, expected.input_shape).transpose([0, 2, 3, 1]) as tf.Tensor4D;
      const out = unetForward(layout, weights, x, tf.tensor1d(expected.model_timesteps));
      return Float32Array.from(out.transpose([0, 3, 1, 2]).dataSync() as Float32Array);
    });
  } finally {
    disposeWeights(weights);
  }
}

describe('iddpm import of a reference log directory', () => {
  let t: TempStore;
  beforeAll(useCpuBackend);
  beforeEach(() => {
    t = tempStore();
  });
  afterEach(() => t.cleanup());

  it('makes a run whose config comes from the flags and the tensor shapes', () => {
    const r = importReferenceRun({ store: t.store, dataDir: t.dir, source: LOGDIR, flags: FLAGS });
    const m = r.config.model;
    expect(m).toMatchObject({ imageSize: 8, imageChannels: 3, channels: 32, numResBlocks: 1, channelMult: [1], attentionResolutions: [8], numHeads: 2, useScaleShiftNorm: true });
    expect(r.config.diffusion).toMatchObject({ steps: 50, noiseSchedule: 'cosine', varianceType: 'learned_range', objective: 'hybrid', rescaleTimesteps: true });
    expect(r.config.training).toMatchObject({ emaRates: [0.9999], lr: 1e-3, batchSize: 4, lrAnnealSteps: 4 });
    expect(r.notes.join('\n')).toContain('image_size 8: from samples_4x8x8x3.npz');
    const run = t.store.getRun(r.runId)!;
    expect(run.status).toBe('stopped');
    expect(run.step).toBe(4);
    expect(JSON.parse(readFileSync(path.join(run.runDir!, IMPORT_RECORD), 'utf8')).source).toBe(LOGDIR);
  });

  it("gives the reference's UNet output on the same input, raw and EMA, within 1e-4", () => {
    const r = importReferenceRun({ store: t.store, dataDir: t.dir, source: LOGDIR, flags: FLAGS });
    const [ckpt] = t.store.listCheckpoints(r.runId);
    expect(ckpt.step).toBe(4);
    expect(ckpt.emaRates).toEqual([0.9999]);
    expectClose(forwardNchw(ckpt.path, null), expected.model.output, { atol: 1e-4, rtol: 0, label: 'model000004.pt output' });
    // After 4 steps the 0.9999 EMA is still close to the zero-initialised head, so its outputs are ~1e-5:
    // compare them relative to their size, or any near-zero output would pass.
    const ema = forwardNchw(ckpt.path, 0.9999);
    expect(Math.max(...expected.ema.output.map(Math.abs))).toBeGreaterThan(1e-5);
    expectClose(ema, expected.ema.output, { atol: 1e-8, rtol: 1e-3, label: 'ema_0.9999_000004.pt output' });
  });

  it('carries the AdamW state, so the run continues training from step 4', () => {
    const r = importReferenceRun({ store: t.store, dataDir: t.dir, source: LOGDIR, flags: FLAGS });
    const snap = readTrainCheckpoint(t.store.listCheckpoints(r.runId)[0].path);
    expect(snap.step).toBe(4);
    expect(snap.adam.step).toBe(4);
    expect(snap.adam.m.some((v) => v !== 0)).toBe(true);
    expect(snap.adam.v.every((v) => v >= 0) && snap.adam.v.some((v) => v > 0)).toBe(true);
    const trainer = Trainer.create(r.config, squaresData(8, 3), {}, snap);
    try {
      const e = trainer.trainStep();
      expect(e).not.toBeNull();
      expect(e!.step).toBe(5);
      expect(Number.isFinite(e!.loss)).toBe(true);
    } finally {
      trainer.dispose();
    }
  });

  it('samples from the imported checkpoint', async () => {
    const r = importReferenceRun({ store: t.store, dataDir: t.dir, source: LOGDIR, flags: FLAGS });
    const out = path.join(t.dir, 'set');
    const res = await runSampleJob({ checkpoint: t.store.listCheckpoints(r.runId)[0].path, sampler: 'ddim', steps: 5, eta: 0, count: 2, seed: 1, backend: 'cpu', outDir: out });
    expect(res.images).toHaveLength(2);
    expect(res.size).toBe(8);
    expect(res.channels).toBe(3);
  });

  it('stores progress.csv as step metrics with quartiles, and the sample batch as a gallery set', () => {
    const r = importReferenceRun({ store: t.store, dataDir: t.dir, source: LOGDIR, flags: FLAGS });
    expect(r.metricRows).toBe(4);
    const loss = t.store.readSeriesRaw(r.runId, 'loss');
    expect(loss.step).toEqual([1, 2, 3, 4]);
    // progress.csv row for reference step 0: loss 0.9808330535888672, loss_q1 1.012485384941101, no loss_q2.
    expectClose([loss.value[0]], [0.9808330535888672], { atol: 1e-12, rtol: 0, label: 'loss' });
    const q1 = t.store.readSeriesRaw(r.runId, 'lossQ1');
    expect(q1.step[0]).toBe(1);
    expectClose([q1.value[0]], [1.012485384941101], { atol: 1e-12, rtol: 0, label: 'loss_q1' });
    const q2 = t.store.readSeriesRaw(r.runId, 'lossQ2');
    expect(q2.step).not.toContain(1); // no timestep of step 0 fell in the third quarter
    const vb = t.store.readSeriesRaw(r.runId, 'vb');
    expect(vb.value.every((v) => v > 0)).toBe(true);
    const lr = t.store.readSeriesRaw(r.runId, 'lr');
    expect(lr.value.map((v) => Number(v.toPrecision(6)))).toEqual([1e-3, 7.5e-4, 5e-4, 2.5e-4]);

    const sets = t.store.listSampleSets({ runId: r.runId });
    expect(sets).toHaveLength(1);
    const set = t.store.getSampleSet(sets[0].id)!;
    expect(set.count).toBe(4);
    expect(set.images).toHaveLength(4);
    for (const im of set.images) expect(readFileSync(im.path).subarray(1, 4).toString()).toBe('PNG');
  });

  it('asks for what a checkpoint does not store, names flags that contradict the tensors, and creates nothing', () => {
    expect(() => importReferenceRun({ store: t.store, dataDir: t.dir, source: LOGDIR, flags: {} })).toThrow(
      /num_heads, diffusion_steps, noise_schedule: not stored in a checkpoint.*--flags "--num_heads 4 --diffusion_steps 1000 --noise_schedule linear"/,
    );
    expect(() => importReferenceRun({ store: t.store, dataDir: t.dir, source: LOGDIR, flags: { ...FLAGS, num_channels: '64' } })).toThrow(
      /num_channels: the flags say 64 but the checkpoint's tensors say 32/,
    );
    expect(() => importReferenceRun({ store: t.store, dataDir: t.dir, source: LOGDIR, flags: { ...FLAGS, attention_resolutions: '4' } })).toThrow(
      /attention_resolutions: the flags say 4 but the checkpoint has attention at 8 px/,
    );
    // A single .pt has no samples file to show the image size, and channel_mult (1) is not the reference's.
    expect(() => importReferenceRun({ store: t.store, dataDir: t.dir, source: path.join(LOGDIR, 'model000004.pt'), flags: FLAGS })).toThrow(/image_size: .*add --image_size N/);
    expect(() => importReferenceRun({ store: t.store, dataDir: t.dir, source: path.join(FIXTURES, 'malicious.pt'), flags: FLAGS })).toThrow(/refused.*posix\.system/);
    expect(t.store.listRuns()).toHaveLength(0);
    expect(existsSync(path.join(t.dir, 'runs')) ? readdirSync(path.join(t.dir, 'runs')) : []).toEqual([]);
  });

  it('imports a single .pt file when the flags give the image size', () => {
    const r = importReferenceRun({ store: t.store, dataDir: t.dir, source: path.join(LOGDIR, 'model000004.pt'), flags: { ...FLAGS, image_size: '8' } });
    expect(r.checkpoints).toBe(1);
    expect(r.notes.join('\n')).toMatch(/no optimizer file; AdamW's moments start at zero/);
    const [ckpt] = t.store.listCheckpoints(r.runId);
    expectClose(forwardNchw(ckpt.path, null), expected.model.output, { atol: 1e-4, rtol: 0, label: 'single file output' });
  });
});
