/**
 * A sampling job: loads a checkpoint's weights (an EMA or the raw model), samples with ancestral steps on
 * a respaced process or with DDIM(η), and writes a PNG grid plus single PNGs that carry their settings.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendReport } from '../engine/backend/selectBackend';
import type { BackendPreference } from '../../src-shared/config/enums';
import { readCheckpointWeights } from '../engine/checkpoint/trainCheckpoint';
import { pSampleLoop } from '../engine/diffusion/ancestral';
import { ddimSampleLoop } from '../engine/diffusion/ddim';
import { diffusionFromConfig, respacedDiffusion } from '../engine/diffusion/fromConfig';
import { Rng, rngNoise } from '../engine/rng';
import { readUint8Images } from '../engine/train/images';
import { assertModelFitsAdapter } from '../engine/unet/bufferPlan';
import { unetForward } from '../engine/unet/forward';
import { disposeWeights } from '../engine/unet/weights';
import { imageGrid, singleImage } from '../imageio/grid';
import { encodePng } from '../imageio/png';
import { ensureDir } from './runFiles';
import type { WeightsChoice } from '../../src-shared/emaWeights';
import { SIZE_LIMITS } from '../../src-shared/config/limits';
import { skipFractionProblem, stepsAfterSkip } from '../../src-shared/diffusion/skipFraction';

export type SamplerName = 'ancestral' | 'ddim';

export interface SampleSettings {
  checkpoint: string;
  /** EMA rate to use; null = raw weights; undefined = the checkpoint's first EMA (raw if none). */
  emaRate?: number | null;
  sampler: SamplerName;
  /** Respaced steps (ancestral: "K" sections; DDIM: "ddimK"). */
  steps: number;
  eta: number;
  count: number;
  seed: number;
  /** Skip the first fraction f ∈ [0, 1) of the reverse process (src-shared/diffusion/skipFraction.ts); default 0. */
  skipFraction?: number;
  /** Images per network call (memory bound). */
  batchSize?: number;
  clipDenoised?: boolean;
  backend?: BackendPreference;
}

export interface SampleJobOptions extends SampleSettings {
  outDir: string;
  signal?: AbortSignal;
  onBackend?: (r: BackendReport) => void;
  /** Which weights the job uses and why (before any image is computed). */
  onWeights?: (choice: WeightsChoice) => void;
  onProgress?: (done: number, total: number) => void;
  /** Things to tell the user about the checkpoint that do not stop the job (e.g. it has no checksum). */
  onNote?: (note: string) => void;
}

export interface SampleJobResult {
  grid: string;
  images: string[];
  /** Everything that made these images, as embedded in each PNG. */
  settings: Record<string, unknown>;
  pixels: Uint8Array;
  size: number;
  channels: number;
}

export function respacingFor(sampler: SamplerName, steps: number): string {
  return sampler === 'ddim' ? `ddim${steps}` : String(steps);
}

export async function runSampleJob(opts: SampleJobOptions): Promise<SampleJobResult> {
  if (!(opts.count >= 1 && Number.isInteger(opts.count))) throw new Error(`count must be a whole number ≥ 1, got ${opts.count}`);
  if (opts.count > SIZE_LIMITS.sampleCount) throw new Error(`count ${opts.count} is more than ${SIZE_LIMITS.sampleCount}, the most images one sampling job draws: use at most ${SIZE_LIMITS.sampleCount}`);
  if (!(opts.steps >= 1 && Number.isInteger(opts.steps))) throw new Error(`steps must be a whole number ≥ 1, got ${opts.steps}`);
  const backend = await selectBackend(opts.backend ?? 'auto');
  opts.onBackend?.(backend);
  const { emaRate, choice, config, step, layout, weights, notes } = readCheckpointWeights(opts.checkpoint, opts.emaRate);
  for (const n of notes) opts.onNote?.(n);
  try {
    opts.onWeights?.(choice);
    const base = diffusionFromConfig(config);
    const T = base.process.numSteps;
    const skipFraction = opts.skipFraction ?? 0;
    const skipProblem = skipFractionProblem(skipFraction, T);
    if (skipProblem) throw new Error(skipProblem);
    const left = stepsAfterSkip(T, skipFraction);
    // Refused, not clamped: the settings written into every PNG must be the ones that made it.
    if (opts.steps > T) throw new Error(`steps ${opts.steps} is more than the model's diffusion steps T = ${T}: use at most ${T}`);
    if (opts.steps > left) throw new Error(`steps ${opts.steps} is more than the ${left} steps left after skipFraction ${skipFraction} (⌊(1−f)·T⌋, T = ${T}): use at most ${left}`);
    const spec = respacingFor(opts.sampler, opts.steps);
    let d;
    try {
      d = respacedDiffusion(base, spec, skipFraction);
    } catch (e) {
      const of = skipFraction > 0 ? `${left} steps left after skipFraction ${skipFraction}` : `T = ${T}`;
      throw new Error(`${(e as Error).message} (${of}; pick a step count that divides it for DDIM)`);
    }
    const size = config.model.imageSize;
    const channels = config.model.imageChannels;
    const batch = Math.max(1, Math.min(opts.batchSize ?? 16, opts.count));
    assertModelFitsAdapter(config, backend.adapter, batch, 'the sampling batch size (--batch)');
    const rng = new Rng(opts.seed);
    const model = (x: tf.Tensor4D, t: tf.Tensor1D) => unetForward(layout, weights, x, t);
    const pixels = new Uint8Array(opts.count * size * size * channels);
    const totalCalls = Math.ceil(opts.count / batch) * d.process.numSteps;
    let done = 0;
    for (let start = 0; start < opts.count; start += batch) {
      const n = Math.min(batch, opts.count - start);
      const loopOpts = {
        shape: [n, size, size, channels] as [number, number, number, number],
        noiseSource: rngNoise(rng),
        clipDenoised: opts.clipDenoised ?? true,
        signal: opts.signal,
        onProgress: (k: number) => opts.onProgress?.(done + k, totalCalls),
      };
      const x = opts.sampler === 'ddim' ? await ddimSampleLoop(d, model, { ...loopOpts, eta: opts.eta }) : await pSampleLoop(d, model, loopOpts);
      pixels.set(await readUint8Images(x), start * size * size * channels);
      x.dispose();
      done += d.process.numSteps;
    }

    const settings = {
      checkpoint: path.resolve(opts.checkpoint),
      checkpointStep: step,
      weights: emaRate === null ? 'raw' : `ema ${emaRate}`,
      weightsWhy: choice.reason,
      sampler: opts.sampler,
      steps: d.process.numSteps,
      respacing: spec,
      eta: opts.sampler === 'ddim' ? opts.eta : null,
      skipFraction,
      // The original step the reverse process starts at (T − 1 for the whole chain).
      startTimestep: d.process.timestepMap.at(-1),
      clipDenoised: opts.clipDenoised ?? true,
      seed: opts.seed,
      count: opts.count,
      config,
    };
    ensureDir(opts.outDir);
    const text = (extra: Record<string, unknown>) => ({
      Software: 'iddpm-studio',
      'iddpm:settings': JSON.stringify({ ...settings, ...extra }),
    });
    const ch = channels as 1 | 3;
    const grid = path.join(opts.outDir, 'grid.png');
    writeFileSync(grid, encodePng(imageGrid(pixels, opts.count, size, ch), text({})));
    const images: string[] = [];
    for (let i = 0; i < opts.count; i++) {
      const file = path.join(opts.outDir, `sample-${String(i).padStart(4, '0')}.png`);
      writeFileSync(file, encodePng(singleImage(pixels, i, size, ch), text({ index: i })));
      images.push(file);
    }
    writeFileSync(path.join(opts.outDir, 'manifest.json'), `${JSON.stringify({ ...settings, grid: 'grid.png', images: images.map((f) => path.basename(f)) }, null, 2)}\n`);
    return { grid, images, settings, pixels, size, channels };
  } finally {
    disposeWeights(weights);
  }
}
