/**
 * Training checkpoints: one safetensors file holding the model, every EMA, the optimizer state and the
 * timestep sampler's history, with the step, RNG and data positions and the full run config in the
 * header metadata. Tensors use the reference's names and layouts (`model.input_blocks.1.0.in_layers.2.weight`,
 * conv OIHW), so `safetensors.torch.load_file` + stripping the prefix gives a PyTorch state dict.
 */
import * as tf from '@tensorflow/tfjs';
import { chosenWeights, defaultWeights, type WeightsChoice } from '../../../src-shared/emaWeights';
import type { RunConfig } from '../../../src-shared/config/runConfig';
import type { TimestepSamplerState } from '../timestepSampler';
import type { TrainerSnapshot } from '../train/trainer';
import { flatLayout, flatten, unflatten, type FlatLayout } from '../train/flatParams';
import { buildLayout, type UNetLayout } from '../unet/layout';
import { unetSpecFromConfig } from '../unet/spec';
import { fromReferenceLayout, toReferenceLayout, disposeWeights, type WeightMap } from '../unet/weights';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, parseCheckpointInfo, type CheckpointInfo, type MetadataReader } from './checkpointMetadata';
import { assertFiniteTensors } from './finiteTensors';
import { readSafetensors, writeSafetensors, type NamedArray } from '../../imageio/safetensors';
import type { CheckpointMetadata } from '../../imageio/checkpointFormat';
import { onCpuWhenNoSyncRead } from '../backend/onCpu';

export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION };

/**
 * Things a reader of a checkpoint should tell the user without refusing it: today, that the file has no
 * checksum (written before checksums were stored), so damage to its tensors cannot be ruled out.
 */
export type CheckpointNotes = string[];

/** One read of a checkpoint: checksum verified (when present), metadata validated, every weight finite. */
function readCheckedCheckpoint(file: string) {
  const { tensors, metadata, checksum } = readSafetensors(file);
  const info = parseCheckpointInfo(metadata, file);
  assertFiniteTensors(tensors, file);
  const notes: CheckpointNotes =
    checksum === 'absent'
      ? [`checkpoint ${file} has no checksum (it was written before the studio stored one), so damage to its weights cannot be detected`]
      : [];
  return { tensors, metadata, notes, ...info };
}

// The layout conversions read their results synchronously: on webgpu they run on the cpu backend.
function flatToReference(fl: FlatLayout, flat: Float32Array, prefix: string, out: Map<string, NamedArray>): void {
  onCpuWhenNoSyncRead(() => flatToReferenceHere(fl, flat, prefix, out));
}

function flatToReferenceHere(fl: FlatLayout, flat: Float32Array, prefix: string, out: Map<string, NamedArray>): void {
  const t = tf.tensor1d(flat);
  const weights = unflatten(fl, t);
  t.dispose();
  fl.infos.forEach((p) => {
    out.set(`${prefix}${p.name}`, { dtype: 'F32', shape: p.refShape, data: toReferenceLayout(p.kind, weights.get(p.name)!) });
  });
  disposeWeights(weights);
}

function referenceToFlat(fl: FlatLayout, tensors: Map<string, NamedArray>, prefix: string, file: string): Float32Array {
  return onCpuWhenNoSyncRead(() => referenceToFlatHere(fl, tensors, prefix, file));
}

function referenceToFlatHere(fl: FlatLayout, tensors: Map<string, NamedArray>, prefix: string, file: string): Float32Array {
  const weights: WeightMap = new Map();
  try {
    for (const p of fl.infos) {
      const got = tensors.get(`${prefix}${p.name}`);
      if (!got) throw new Error(`${file}: tensor ${prefix}${p.name} is missing (the checkpoint is for a different model or incomplete)`);
      if (got.shape.join(',') !== p.refShape.join(',')) {
        throw new Error(
          `${file}: parameter ${p.name} has shape [${got.shape.join(', ')}] in the checkpoint but [${p.refShape.join(', ')}] in this model`,
        );
      }
      weights.set(p.name, fromReferenceLayout(p.kind, p.refShape, got.data as Float32Array));
    }
    const flat = flatten(fl, weights);
    const values = Float32Array.from(flat.dataSync());
    flat.dispose();
    return values;
  } finally {
    disposeWeights(weights);
  }
}

export function writeTrainCheckpoint(file: string, s: TrainerSnapshot): number {
  const fl = flatLayout(buildLayout(unetSpecFromConfig(s.config)));
  const tensors = new Map<string, NamedArray>();
  flatToReference(fl, s.params, 'model.', tensors);
  for (const [rate, values] of s.ema) flatToReference(fl, values, `ema.${rate}.`, tensors);
  flatToReference(fl, s.adam.m, 'optimizer.exp_avg.', tensors);
  flatToReference(fl, s.adam.v, 'optimizer.exp_avg_sq.', tensors);
  if (s.sampler.history && s.sampler.counts) {
    const T = s.sampler.counts.length;
    tensors.set('sampler.loss_history', { dtype: 'F64', shape: [T, s.sampler.history.length / T], data: Float64Array.from(s.sampler.history) });
    tensors.set('sampler.loss_counts', { dtype: 'I32', shape: [T], data: Int32Array.from(s.sampler.counts) });
  }
  const metadata: CheckpointMetadata = {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    step: String(s.step),
    config: JSON.stringify(s.config),
    ema_rates: JSON.stringify([...s.ema.keys()]),
    optimizer: JSON.stringify({ name: 'AdamW', step: s.adam.step }),
    sampler: s.sampler.name,
    rng: JSON.stringify(s.rng),
    gns: JSON.stringify(s.gns),
    nan: JSON.stringify(s.nan),
  };
  writeSafetensors(file, { tensors, metadata: { ...metadata } });
  let bytes = 0;
  for (const t of tensors.values()) bytes += t.data.byteLength;
  return bytes;
}

/** The header facts (config, step, EMA rates), validated, without converting tensors. */
export function readCheckpointInfo(file: string): CheckpointInfo {
  const { config, step, emaRates } = parseCheckpointInfo(readSafetensors(file).metadata, file);
  return { config, step, emaRates };
}

/** The training state in the metadata (optimizer step, RNG, noise-scale and NaN counters), shape-checked. */
function trainingState(r: MetadataReader) {
  const optimizer = r.object('optimizer');
  const rngState = (v: unknown, entry: string) => {
    // A plain uint32 seed starts a generator afresh (what a converted reference checkpoint stores).
    const isSeed = Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32;
    const o = v as { s?: unknown; spare?: unknown } | null;
    const isState =
      o !== null && typeof o === 'object' && Array.isArray(o.s) && o.s.length === 4 &&
      o.s.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32) && (o.spare === null || typeof o.spare === 'number');
    if (!isSeed && !isState) r.fail('rng', `has no valid ${entry} generator state (four 32-bit words and a spare normal, or a 32-bit seed)`);
    return v as TrainerSnapshot['rng']['train'];
  };
  const rng = r.object('rng');
  return {
    adamStep: r.wholeNumber('optimizer', optimizer.step),
    rng: { train: rngState(rng.train, 'train'), dropout: rngState(rng.dropout, 'dropout') },
    gns: r.object('gns') as unknown as TrainerSnapshot['gns'],
    nan: r.object('nan') as unknown as TrainerSnapshot['nan'],
  };
}

/** A full training snapshot from a checkpoint file, with notes for the user (see CheckpointNotes). */
export function readTrainCheckpoint(file: string): TrainerSnapshot & { notes: CheckpointNotes } {
  const { tensors, metadata, config, step, emaRates, reader, notes } = readCheckedCheckpoint(file);
  const state = trainingState(reader);
  const fl = flatLayout(buildLayout(unetSpecFromConfig(config)));
  const ema = new Map<number, Float32Array>();
  for (const rate of emaRates) ema.set(rate, referenceToFlat(fl, tensors, `ema.${rate}.`, file));
  const history = tensors.get('sampler.loss_history');
  const counts = tensors.get('sampler.loss_counts');
  const sampler: TimestepSamplerState = history && counts
    ? { name: 'loss-second-moment', history: Array.from(history.data), counts: Array.from(counts.data) }
    : { name: (metadata.sampler as TimestepSamplerState['name']) ?? 'uniform' };
  return {
    config,
    step,
    params: referenceToFlat(fl, tensors, 'model.', file),
    ema,
    adam: {
      step: state.adamStep,
      m: referenceToFlat(fl, tensors, 'optimizer.exp_avg.', file),
      v: referenceToFlat(fl, tensors, 'optimizer.exp_avg_sq.', file),
    },
    sampler,
    rng: state.rng,
    gns: state.gns,
    nan: state.nan,
    notes,
  };
}

/**
 * Weights for sampling or evaluation: the given EMA rate, the raw weights for null, or by default (undefined)
 * the run's first EMA, raw when it keeps none or while that EMA still holds a large share of the random
 * initial weights (src-shared/emaWeights.ts). `choice` says which and why. One read of the file.
 */
export function readCheckpointWeights(
  file: string,
  emaRateWanted: number | null | undefined,
): { config: RunConfig; step: number; emaRate: number | null; choice: WeightsChoice; layout: UNetLayout; weights: WeightMap; notes: CheckpointNotes } {
  const { tensors, config, step, emaRates, notes } = readCheckedCheckpoint(file);
  const warmup = config.training?.emaWarmup === true;
  const choice = emaRateWanted === undefined ? defaultWeights(emaRates, step, warmup) : chosenWeights(emaRateWanted, step, warmup);
  const emaRate = choice.emaRate;
  if (emaRate !== null && !emaRates.includes(emaRate)) {
    throw new Error(`${file} has no EMA with rate ${emaRate}; it has ${emaRates.join(', ') || 'none'} (or use the raw weights)`);
  }
  const layout = buildLayout(unetSpecFromConfig(config));
  const prefix = emaRate === null ? 'model.' : `ema.${emaRate}.`;
  const fl = flatLayout(layout);
  const flat = tf.tensor1d(referenceToFlat(fl, tensors, prefix, file));
  const weights = unflatten(fl, flat);
  flat.dispose();
  return { config, step, emaRate, choice, layout, weights, notes };
}

/**
 * Names every option that makes a checkpoint unusable for a run: the network's shape and the diffusion
 * it was trained for. Returns human-readable differences, empty when it fits.
 */
export function checkpointConfigDifferences(checkpoint: RunConfig, run: RunConfig): string[] {
  const diffs: string[] = [];
  const groups = ['model', 'diffusion'] as const;
  for (const g of groups) {
    const a = checkpoint[g] as unknown as Record<string, unknown>;
    const b = run[g] as unknown as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (g === 'model' && key === 'dropout') continue; // dropout may change between runs
      if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) {
        diffs.push(`${g}.${key} is ${JSON.stringify(a[key])} in the checkpoint but ${JSON.stringify(b[key])} in this run`);
      }
    }
  }
  return diffs;
}

