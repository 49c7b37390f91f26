/**
 * The engine on the webgpu backend (Chromium's SwiftShader adapter) against the same work on tfjs's cpu backend:
 * ten training steps of a tiny config (losses within 1e-3 relative; hybrid objective, EMA, a GNS step with
 * microbatches), the per-t VLB terms and NLL of the trained weights, an ancestral preview and a DDIM sampling loop
 * from the same noise, a checkpoint written and read back while webgpu is active, and no tensor left behind.
 * Small on purpose: SwiftShader runs the GPU's work on the CPU.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { readCheckpointWeights, readTrainCheckpoint, writeTrainCheckpoint } from '../../src-main/engine/checkpoint/trainCheckpoint';
import { ddimSampleLoop } from '../../src-main/engine/diffusion/ddim';
import { respacedDiffusion } from '../../src-main/engine/diffusion/fromConfig';
import { Rng, rngNoise } from '../../src-main/engine/rng';
import type { TrainEvent } from '../../src-main/engine/train/events';
import { Trainer } from '../../src-main/engine/train/trainer';
import { disposeWeights } from '../../src-main/engine/unet/weights';
import { unetForward } from '../../src-main/engine/unet/forward';
import { softwareWebGpu } from '../backend/softwareWebGpu';
import { squaresData, tinyConfig } from './tinyRun';

const gpu = await softwareWebGpu();
const dir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-webgpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 4×4 images and batch 2: a conv costs SwiftShader ~0.3 s at 8×8×32, batch 4, on this project's shared CPUs.
const SIZE = 4;
const config = tinyConfig({
  model: { imageSize: SIZE, attentionResolutions: [2] },
  training: { batchSize: 2, microbatch: -1, emaRates: [0.9] },
  intervals: { gnsEvery: 5, previewSteps: 3, previewCount: 2 },
});
const data = squaresData(SIZE, 1);

interface Outcome {
  losses: number[];
  gradNorms: number[];
  gns: number;
  vlb: number[];
  preview: Uint8Array;
  ddim: Float32Array;
  tensorsAfterWarmup: number;
  tensorsAtEnd: number;
}

/** Ten steps, then VLB terms, a preview and a DDIM loop, on the active backend; async reads throughout. */
async function train(): Promise<Outcome & { trainer: Trainer }> {
  const events: TrainEvent[] = [];
  const trainer = Trainer.create(config, data, { onEvent: (e) => events.push(e), vlbTimesteps: 3, vlbImages: 2 });
  await trainer.trainStepAsync();
  const tensorsAfterWarmup = tf.memory().numTensors;
  for (let i = 1; i < 10; i++) await trainer.trainStepAsync();
  const tensorsAtEnd = tf.memory().numTensors;
  const vlb = await trainer.evaluateVlbTerms();
  const preview = await trainer.preview();
  const weights = trainer.weightsFor(0.9);
  const x = await ddimSampleLoop(respacedDiffusion(trainer.diffusion, '3'), (xt, t) => unetForward(trainer.layout, weights, xt, t), {
    shape: [2, SIZE, SIZE, 1],
    noiseSource: rngNoise(new Rng(11)),
    eta: 0,
  });
  const ddim = (await x.data()) as Float32Array;
  tf.dispose(x);
  disposeWeights(weights);
  const steps = events.filter((e): e is Extract<TrainEvent, { type: 'step' }> => e.type === 'step');
  const gns = events.find((e) => e.type === 'gns');
  return {
    trainer,
    losses: steps.map((e) => e.loss),
    gradNorms: steps.map((e) => e.gradNorm),
    gns: gns && gns.type === 'gns' ? gns.bSimple : NaN,
    vlb: vlb.type === 'vlbTerms' ? [...vlb.termsBpd, vlb.priorBpd] : [],
    preview: preview.type === 'preview' ? preview.pixels : new Uint8Array(),
    ddim: Float32Array.from(ddim),
    tensorsAfterWarmup,
    tensorsAtEnd,
  };
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-6));
  return worst;
}

describe.skipIf(gpu.skip !== null)('the engine on webgpu (SwiftShader) matches the cpu backend', () => {
  it('ten training steps, VLB terms, preview, DDIM and a checkpoint round trip', { timeout: 600_000 }, async () => {
    await selectBackend('cpu');
    const cpu = await train();
    cpu.trainer.dispose();

    await selectBackend('webgpu');
    const gpuRun = await train();
    const measured = {
      loss: maxRel(gpuRun.losses, cpu.losses),
      gradNorm: maxRel(gpuRun.gradNorms, cpu.gradNorms),
      vlb: maxRel(gpuRun.vlb, cpu.vlb),
      ddim: Math.max(...Array.from(gpuRun.ddim, (v, i) => Math.abs(v - cpu.ddim[i]))),
      preview: Math.max(...Array.from(gpuRun.preview, (v, i) => Math.abs(v - cpu.preview[i]))),
    };
    console.log(`webgpu vs cpu: ${JSON.stringify(measured)}`);
    expect(gpuRun.losses).toHaveLength(10);
    expect(measured.loss).toBeLessThanOrEqual(1e-3);
    expect(measured.gradNorm).toBeLessThanOrEqual(1e-3);
    expect(maxRel([gpuRun.gns], [cpu.gns])).toBeLessThanOrEqual(1e-2); // a ratio of small differences
    expect(measured.vlb).toBeLessThanOrEqual(1e-3);
    expect(measured.ddim).toBeLessThanOrEqual(1e-3); // pixels in [-1, 1]
    expect(measured.preview).toBeLessThanOrEqual(1); // 8-bit levels: truncation may flip one level
    // No tensor leaks over the steps (the first step creates the sampler's and optimizer's lasting state).
    expect(gpuRun.tensorsAtEnd).toBe(gpuRun.tensorsAfterWarmup);

    // A checkpoint written and read while webgpu is active: conversions run on cpu, the backend stays webgpu.
    const file = path.join(dir, 'step-10.safetensors');
    const snap = await gpuRun.trainer.snapshotAsync();
    writeTrainCheckpoint(file, snap);
    expect(tf.getBackend()).toBe('webgpu');
    const back = readTrainCheckpoint(file);
    expect(back.step).toBe(10);
    expect(maxRel(back.params, snap.params)).toBe(0);
    const w = readCheckpointWeights(file, 0.9);
    expect(tf.getBackend()).toBe('webgpu');
    const params = await gpuRun.trainer.snapshotAsync();
    const firstName = w.layout.params[0].name;
    expect((await w.weights.get(firstName)!.data()).length).toBeGreaterThan(0);
    disposeWeights(w.weights);
    expect(params.ema.get(0.9)).toEqual(snap.ema.get(0.9));
    gpuRun.trainer.dispose();
  });
});
