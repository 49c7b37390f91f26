/**
 * The New run form, as data: every RunConfig option with its label, input kind and a one-line hint,
 * grouped by section. The form renders this table, so adding an option to RunConfig means adding one
 * line here (the `satisfies` below fails to compile if a field is missing).
 */
import {
  BACKEND_PREFERENCES,
  DATASET_KINDS,
  MEAN_TYPES,
  OBJECTIVES,
  SCHEDULE_NAMES,
  TIMESTEP_SAMPLERS,
  VARIANCE_TYPES,
  type RunConfig,
  type RunConfigGroup,
} from '../../../../src-shared/config';

export type FieldKind = 'int' | 'number' | 'select' | 'bool' | 'numberList' | 'text' | 'optionalInt';

export interface FieldDef {
  kind: FieldKind;
  label: string;
  hint?: string;
  options?: readonly string[];
}

type Table = { [G in RunConfigGroup]: { [K in keyof Required<RunConfig[G]>]: FieldDef } };

export const FIELDS = {
  dataset: {
    kind: { kind: 'select', label: 'Dataset', options: DATASET_KINDS, hint: 'mnist is bundled; folder needs a path' },
    path: { kind: 'text', label: 'Path', hint: 'file or folder; empty = the default for the kind' },
  },
  model: {
    imageSize: { kind: 'int', label: 'Image size (px)' },
    imageChannels: { kind: 'int', label: 'Image channels', hint: '1 grayscale, 3 RGB' },
    channels: { kind: 'int', label: 'Base channels C', hint: 'multiple of 32 (GroupNorm)' },
    numResBlocks: { kind: 'int', label: 'ResBlocks per level' },
    channelMult: { kind: 'numberList', label: 'Channel multipliers', hint: 'comma separated, one per level, e.g. 1, 2, 2' },
    attentionResolutions: { kind: 'numberList', label: 'Attention at (px)', hint: 'comma separated, e.g. 16, 8 (empty = none)' },
    numHeads: { kind: 'int', label: 'Attention heads' },
    numHeadsUpsample: { kind: 'int', label: 'Heads on the way up', hint: '-1 = same as heads' },
    dropout: { kind: 'number', label: 'Dropout' },
    useScaleShiftNorm: { kind: 'bool', label: 'Scale-shift norm' },
  },
  diffusion: {
    steps: { kind: 'int', label: 'Diffusion steps T' },
    noiseSchedule: { kind: 'select', label: 'Noise schedule', options: SCHEDULE_NAMES },
    objective: { kind: 'select', label: 'Objective', options: OBJECTIVES, hint: 'simple = L_simple, hybrid = L_simple + λ L_vlb' },
    varianceType: { kind: 'select', label: 'Variance', options: VARIANCE_TYPES, hint: 'learned_range = the paper’s learned Σ' },
    meanType: { kind: 'select', label: 'Network predicts', options: MEAN_TYPES },
    rescaleTimesteps: { kind: 'bool', label: 'Rescale timesteps (t·1000/T)' },
    rescaleLearnedSigmas: { kind: 'bool', label: 'Rescale vb term by T/1000' },
  },
  training: {
    timestepSampler: { kind: 'select', label: 'Timestep sampler', options: TIMESTEP_SAMPLERS },
    lr: { kind: 'number', label: 'Learning rate', hint: 'e.g. 1e-4 (the paper’s)' },
    weightDecay: { kind: 'number', label: 'Weight decay' },
    lrAnnealSteps: { kind: 'int', label: 'LR anneal steps', hint: '0 = constant' },
    batchSize: { kind: 'int', label: 'Batch size' },
    microbatch: { kind: 'int', label: 'Microbatch', hint: '-1 = whole batch at once' },
    emaRates: { kind: 'numberList', label: 'EMA rates', hint: 'comma separated, e.g. 0.9999, 0.995' },
    emaWarmup: { kind: 'bool', label: 'EMA warm-up', hint: 'rate min(r, (1+k)/(10+k)) at step k: short runs' },
    seed: { kind: 'int', label: 'Seed' },
    maxSteps: { kind: 'optionalInt', label: 'Max steps', hint: 'empty = until stopped' },
    backend: { kind: 'select', label: 'Backend', options: BACKEND_PREFERENCES },
  },
  intervals: {
    checkpointEvery: { kind: 'int', label: 'Checkpoint every', hint: 'steps; 0 = off' },
    evalEvery: { kind: 'int', label: 'Per-t VLB eval every', hint: 'steps; 0 = off' },
    gnsEvery: { kind: 'int', label: 'Gradient noise scale every', hint: 'steps; 0 = off' },
    previewEvery: { kind: 'int', label: 'Preview samples every', hint: 'steps; 0 = off' },
    previewSteps: { kind: 'int', label: 'Preview sampling steps' },
    previewCount: { kind: 'int', label: 'Preview images' },
    keepCheckpoints: { kind: 'int', label: 'Checkpoints kept', hint: 'newest N plus the best by NLL; 0 = all' },
  },
} as const satisfies Table;

export const SECTION_TITLES: Record<RunConfigGroup, string> = {
  dataset: 'Dataset',
  model: 'Model',
  diffusion: 'Diffusion',
  training: 'Training',
  intervals: 'Intervals',
};

/** Parse "1, 2, 2" into numbers; anything unparsable is returned as the raw text so the validator names it. */
export function parseNumberList(text: string): number[] | string {
  const parts = text.split(/[,\s]+/).filter((p) => p !== '');
  const nums = parts.map(Number);
  return nums.every((n) => Number.isFinite(n)) ? nums : text;
}

/** Parse a number input; '' becomes undefined (missing), junk becomes the raw text (a type problem). */
export function parseNumber(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}
