/**
 * Reference checkpoints → the studio's checkpoint file (imageio/checkpointFormat.ts), so an imported run
 * samples, evaluates and continues training like one trained here. Both sides use the reference's parameter
 * names and layouts, so the tensors carry over unchanged:
 *   model{step}.pt            → model.<name>
 *   ema_{rate}_{step}.pt      → ema.<rate>.<name>
 *   opt{step}.pt (AdamW)      → optimizer.exp_avg.<name>, optimizer.exp_avg_sq.<name>, its step count;
 * the optimizer's state is keyed by parameter index, the position in model.parameters(), which is the
 * order of the model state dict's keys (the reference UNet has no buffers) and of param_groups' params.
 */
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_PREFIX,
  CHECKPOINT_VERSION,
  type CheckpointMetadata,
} from '../imageio/checkpointFormat';
import { writeSafetensors, type NamedArray } from '../imageio/safetensors';
import type { RunConfig } from '../../src-shared/config/runConfig';
import { isTorchTensor, type TorchTensor } from './torchFile';

export type StateDict = Map<string, TorchTensor>;

/** A state dict of tensors from whatever readTorchFile returned, or an Error saying what the file is instead. */
export function asStateDict(value: unknown, source: string): StateDict {
  if (!(value instanceof Map)) throw new Error(`${source} does not hold a state dict (a dict of tensors)`);
  const out: StateDict = new Map();
  for (const [k, v] of value) {
    if (typeof k !== 'string' || !isTorchTensor(v)) {
      throw new Error(`${source}: entry ${String(k)} is not a tensor; the file is not a model state dict${k === 'state' ? ' (it looks like an optimizer state: pass the model file)' : ''}`);
    }
    out.set(k, v);
  }
  return out;
}

export interface AdamState {
  step: number;
  expAvg: Map<string, TorchTensor>;
  expAvgSq: Map<string, TorchTensor>;
}

/** AdamW's state_dict() mapped onto parameter names. */
export function adamStateByName(value: unknown, names: readonly string[], model: StateDict, source: string): AdamState {
  const fail = (what: string): never => {
    throw new Error(`${source} is not the AdamW state of this model: ${what}`);
  };
  if (!(value instanceof Map)) return fail('it is not a dict');
  const state = value.get('state');
  const groups = value.get('param_groups');
  if (!(state instanceof Map) || !Array.isArray(groups)) return fail("no 'state' and 'param_groups'");
  const order = groups.flatMap((g) => (g instanceof Map && Array.isArray(g.get('params')) ? (g.get('params') as unknown[]) : []));
  if (order.length !== names.length) fail(`its param_groups list ${order.length} parameters, the model has ${names.length}`);
  const expAvg = new Map<string, TorchTensor>();
  const expAvgSq = new Map<string, TorchTensor>();
  let step: number | null = null;
  order.forEach((index, position) => {
    const name = names[position];
    const s = state.get(index);
    if (!(s instanceof Map)) return; // a parameter that never had a gradient: no state yet, moments start at 0
    const m = s.get('exp_avg');
    const v = s.get('exp_avg_sq');
    if (!isTorchTensor(m) || !isTorchTensor(v)) fail(`parameter ${String(index)} (${name}) has no exp_avg/exp_avg_sq tensors`);
    const want = model.get(name)!.shape.join(',');
    if ((m as TorchTensor).shape.join(',') !== want || (v as TorchTensor).shape.join(',') !== want) {
      fail(`the moments of parameter ${String(index)} (${name}) have shape [${(m as TorchTensor).shape.join(', ')}], the weight [${want}]`);
    }
    expAvg.set(name, m as TorchTensor);
    expAvgSq.set(name, v as TorchTensor);
    const raw = s.get('step');
    const n = isTorchTensor(raw) ? raw.data[0] : typeof raw === 'number' ? raw : null;
    if (n !== null && step === null) step = n;
  });
  return { step: step ?? 0, expAvg, expAvgSq };
}

export interface StudioCheckpointInput {
  config: RunConfig;
  step: number;
  model: StateDict;
  /** By EMA rate; a rate the config lists but the files lack starts as a copy of the model (noted). */
  ema: Map<number, StateDict>;
  adam: AdamState | null;
}

function float32(t: TorchTensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
}

/** Writes the studio checkpoint atomically; returns the tensor bytes and what had to be filled in. */
export function writeStudioCheckpoint(file: string, input: StudioCheckpointInput): { bytes: number; notes: string[] } {
  const { config, model } = input;
  const notes: string[] = [];
  const names = [...model.keys()];
  const tensors = new Map<string, NamedArray>();
  const put = (prefix: string, sd: ReadonlyMap<string, TorchTensor>, fill: 'zeros' | 'model') => {
    for (const name of names) {
      const t = sd.get(name);
      const shape = model.get(name)!.shape;
      const data = t ? float32(t) : fill === 'model' ? float32(model.get(name)!) : new Float32Array(model.get(name)!.data.length);
      tensors.set(`${prefix}${name}`, { dtype: 'F32', shape: [...shape], data });
    }
  };
  put(CHECKPOINT_PREFIX.model, model, 'model');
  for (const rate of config.training.emaRates) {
    const sd = input.ema.get(rate);
    if (!sd) notes.push(`step ${input.step}: no EMA ${rate} file; the EMA starts as a copy of the model weights`);
    put(CHECKPOINT_PREFIX.ema(rate), sd ?? model, 'model');
  }
  if (!input.adam) notes.push(`step ${input.step}: no optimizer file; AdamW's moments start at zero when training continues`);
  put(CHECKPOINT_PREFIX.expAvg, input.adam?.expAvg ?? new Map(), 'zeros');
  put(CHECKPOINT_PREFIX.expAvgSq, input.adam?.expAvgSq ?? new Map(), 'zeros');

  const seed = config.training.seed;
  const metadata: CheckpointMetadata = {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    step: String(input.step),
    config: JSON.stringify(config),
    ema_rates: JSON.stringify(config.training.emaRates),
    optimizer: JSON.stringify({ name: 'AdamW', step: input.adam?.step ?? 0 }),
    // The reference does not save its loss-aware sampler's history; a loss-second-moment run warms up again.
    sampler: config.training.timestepSampler,
    // The studio's generators start from the run's seed, as they would for a new run (the reference's
    // torch RNG state is not in its checkpoints either).
    rng: JSON.stringify({ train: seed, dropout: seed + 1 }),
    gns: JSON.stringify({ gradSqEma: null, traceEma: null }),
    nan: JSON.stringify({ total: 0, consecutive: 0 }),
  };
  writeSafetensors(file, { tensors, metadata: { ...metadata } });
  let bytes = 0;
  for (const t of tensors.values()) bytes += t.data.byteLength;
  return { bytes, notes };
}
