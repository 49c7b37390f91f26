/**
 * An evaluation job: the NLL bound in bits/dim on the held-out split (SPEC §4 calc_bpd_loop), with the
 * mean per-t terms, written as CSV.
 */
import type { WeightsChoice } from '../../src-shared/emaWeights';
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { BackendPreference } from '../../src-shared/config/enums';
import { openDataset } from '../data';
import { selectBackend, type BackendReport } from '../engine/backend/selectBackend';
import { readCheckpointWeights } from '../engine/checkpoint/trainCheckpoint';
import { diffusionFromConfig } from '../engine/diffusion/fromConfig';
import { calcBpdLoop } from '../engine/diffusion/nll';
import { Rng, rngNoise } from '../engine/rng';
import { unetForward } from '../engine/unet/forward';
import { disposeWeights } from '../engine/unet/weights';

export interface EvalJobOptions {
  checkpoint: string;
  emaRate?: number | null;
  /** Held-out images to evaluate (default 64, at most the split). */
  images?: number;
  batchSize?: number;
  seed?: number;
  backend?: BackendPreference;
  csvFile?: string;
  signal?: AbortSignal;
  onBackend?: (r: BackendReport) => void;
  /** Which weights the job uses and why (before any image is evaluated). */
  onWeights?: (choice: WeightsChoice) => void;
  onProgress?: (done: number, total: number) => void;
  /** Things to tell the user about the checkpoint that do not stop the job (e.g. it has no checksum). */
  onNote?: (note: string) => void;
}

export interface EvalJobResult {
  /** Mean NLL bound over the images, bits/dim. */
  bpd: number;
  priorBpd: number;
  images: number;
  timesteps: number[];
  /** Mean vb term per t, bits/dim; mse of ε and of x̂₀ per t. */
  termsBpd: number[];
  mse: number[];
  xstartMse: number[];
  step: number;
  /** The weights evaluated: an EMA rate, or null for the raw weights. */
  emaRate: number | null;
  weightsWhy: string;
}

export async function runEvalJob(opts: EvalJobOptions): Promise<EvalJobResult> {
  const backend = await selectBackend(opts.backend ?? 'auto');
  opts.onBackend?.(backend);
  const { config, step, choice, layout, weights, notes } = readCheckpointWeights(opts.checkpoint, opts.emaRate);
  for (const n of notes) opts.onNote?.(n);
  try {
    opts.onWeights?.(choice);
    const dataset = await openDataset(config.dataset, { size: config.model.imageSize, channels: config.model.imageChannels });
    const total = Math.min(opts.images ?? 64, dataset.heldOut.count);
    if (total < 1) throw new Error(`${dataset.name} has no held-out images`);
    const d = diffusionFromConfig(config);
    const T = d.process.numSteps;
    const batch = Math.max(1, Math.min(opts.batchSize ?? 16, total));
    const model = (x: tf.Tensor4D, t: tf.Tensor1D) => unetForward(layout, weights, x, t);
    const rng = new Rng(opts.seed ?? 0);
    const sums = { vb: new Float64Array(T), mse: new Float64Array(T), xs: new Float64Array(T) };
    let bpdSum = 0;
    let priorSum = 0;
    const { size, channels } = dataset;
    const batches = Math.ceil(total / batch);
    for (let b = 0; b < batches; b++) {
      const idx = Array.from({ length: Math.min(batch, total - b * batch) }, (_, i) => b * batch + i);
      const x0 = tf.tensor4d(dataset.heldOut.batch(idx), [idx.length, size, size, channels]);
      try {
        const r = await calcBpdLoop(d, model, x0, {
          noiseSource: rngNoise(rng),
          signal: opts.signal,
          onProgress: (k) => opts.onProgress?.(b * T + k, batches * T),
        });
        for (let i = 0; i < idx.length; i++) {
          bpdSum += r.totalBpd[i];
          priorSum += r.priorBpd[i];
          for (let t = 0; t < T; t++) {
            sums.vb[t] += r.vb[i][t];
            sums.mse[t] += r.mse[i][t];
            sums.xs[t] += r.xstartMse[i][t];
          }
        }
      } finally {
        x0.dispose();
      }
    }
    const mean = (a: Float64Array) => Array.from(a, (v) => v / total);
    const result: EvalJobResult = {
      bpd: bpdSum / total,
      priorBpd: priorSum / total,
      images: total,
      timesteps: Array.from({ length: T }, (_, t) => t),
      termsBpd: mean(sums.vb),
      mse: mean(sums.mse),
      xstartMse: mean(sums.xs),
      step,
      emaRate: choice.emaRate,
      weightsWhy: choice.reason,
    };
    if (opts.csvFile) writeFileSync(opts.csvFile, evalCsv(result));
    return result;
  } finally {
    disposeWeights(weights);
  }
}

export function evalCsv(r: EvalJobResult): string {
  const rows = r.timesteps.map((t, i) => `${t},${r.termsBpd[i]},${r.mse[i]},${r.xstartMse[i]}`);
  return `t,vb_bits_per_dim,eps_mse,xstart_mse\n${rows.join('\n')}\n`;
}
