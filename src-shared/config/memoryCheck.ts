/**
 * Whether a (field-by-field valid) config can be trained in a given amount of memory, checked before
 * anything is allocated: the New Run form and the run service ask with the studio's absolute ceiling,
 * the training worker asks again with the memory of its machine and backend. The estimate is the one the
 * New Run form shows (paramCount.ts); it leaves out allocator slack, so a refusal is never a false alarm
 * about a config that would fit, only a run that would certainly not.
 */
import { SIZE_LIMITS } from './limits';
import { estimateTrainingMemory, unetParamCount } from './paramCount';
import type { RunConfig } from './runConfig';

export interface MemoryLimit {
  bytes: number;
  /** Says whose memory it is, for the message: "this machine's 24 GiB", "the wasm backend's 4 GiB heap". */
  what: string;
}

export interface SizeProblem {
  field: string;
  message: string;
}

/** 1.5 GiB, 380 MiB, … */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v >= 100 ? Math.round(v) : v.toPrecision(3)} ${units[i]}`;
}

function divisorsDescending(n: number): number[] {
  const out: number[] = [];
  for (let d = n; d >= 1; d--) if (n % d === 0) out.push(d);
  return out;
}

/** The parameter count is bounded on its own: each copy of the weights is one Float32Array of that length. */
export function parameterProblem(cfg: Pick<RunConfig, 'model' | 'diffusion'>): SizeProblem | null {
  const params = unetParamCount(cfg);
  if (params <= SIZE_LIMITS.parameters) return null;
  return {
    field: 'model.channels',
    message: `the model would have ${params.toExponential(2)} parameters, more than the ${SIZE_LIMITS.parameters.toExponential(2)} one weight array can hold: lower model.channels, model.channelMult or model.numResBlocks.`,
  };
}

/**
 * A problem when training `cfg` needs more than `limit` by the estimate, naming the field to change:
 * the batch (or microbatch) when activations dominate and a smaller chunk would fit, the model otherwise.
 */
export function trainingMemoryProblem(cfg: Pick<RunConfig, 'model' | 'diffusion' | 'training'>, limit: MemoryLimit): SizeProblem | null {
  const e = estimateTrainingMemory(cfg);
  if (e.totalBytes <= limit.bytes) return null;
  const t = cfg.training;
  const chunk = t.microbatch > 0 ? Math.min(t.microbatch, t.batchSize) : t.batchSize;
  const perImage = e.activationBytes / Math.max(1, chunk);
  const emaCopies = t.emaRates.length;
  const weightsWhat = `weights, gradients, AdamW state${emaCopies ? ` and ${emaCopies} EMA cop${emaCopies === 1 ? 'y' : 'ies'}` : ''}`;
  const needs = `needs about ${formatBytes(e.totalBytes)} to train (${weightsWhat}: ${formatBytes(e.weightBytes)}; activations of ${chunk} image${chunk === 1 ? '' : 's'} at once: ${formatBytes(e.activationBytes)}), more than ${limit.what}`;
  if (e.weightBytes + perImage > limit.bytes) {
    return {
      field: 'model.channels',
      message: `this model ${needs}, even one image at a time: lower model.channels, model.channelMult, model.numResBlocks or model.imageSize${emaCopies > 1 ? ', or keep fewer training.emaRates' : ''}.`,
    };
  }
  const fits = divisorsDescending(t.batchSize).find((d) => e.weightBytes + perImage * d <= limit.bytes)!;
  const field = chunk < t.batchSize ? 'training.microbatch' : 'training.batchSize';
  return {
    field,
    message: `${field} ${chunk} ${needs}: set training.microbatch to ${fits} (the same batch of ${t.batchSize}, computed in chunks) or lower training.batchSize.`,
  };
}
