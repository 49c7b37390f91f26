/**
 * The run configuration: everything that decides what a training run computes and when it reports.
 *
 * One schema serves the New Run form, the CLI, the store (as JSON) and the worker, so it is plain data:
 * no classes, no functions, no undefined-vs-missing tricks except `maxSteps` and `dataset.path`, which
 * are genuinely optional. Groups follow the layers of the computation (data → model → diffusion →
 * training → periodic work) and are one level deep so a form can render each group as a section.
 *
 * Defaults follow the reference's `model_and_diffusion_defaults()` and `image_train.py` argparser
 * (openai/improved-diffusion) where an equivalent exists, and SPEC.md / the paper otherwise; each field's
 * comment names the reference flag it corresponds to.
 */
import type {
  MeanType,
  Objective,
  ScheduleName,
  TimestepSamplerName,
  VarianceType,
} from '../diffusion/types';
import type { BackendPreference, DatasetKind } from './enums';

export interface DatasetConfig {
  kind: DatasetKind;
  /**
   * File or folder to read. Optional: without it the data layer uses its default location for the kind
   * (bundled digits for 'mnist', the studio's datasets folder for 'idx'/'cifar10'). 'folder' has no default,
   * so starting a run needs one (see `requireDatasetPath` in validate.ts).
   */
  path?: string;
}

export interface ModelConfig {
  /** Side of the square training images in pixels (`image_size`). MNIST's 28 is padded up to this. */
  imageSize: number;
  /** 1 (grayscale) or 3 (RGB). The reference is always 3. */
  imageChannels: number;
  /** Base width C of the UNet (`num_channels`); level i has channelMult[i]·C channels. */
  channels: number;
  /** ResBlocks per level on the way down (`num_res_blocks`); the way up has one more. */
  numResBlocks: number;
  /** Width multiplier per resolution level; its length is the number of levels. */
  channelMult: number[];
  /**
   * Resolutions in pixels where self-attention is added (`attention_resolutions` "16,8").
   * The network works with downsample factors imageSize / res: see `attentionDownsampleFactors`.
   */
  attentionResolutions: number[];
  /** Attention heads on the way down and in the middle block (`num_heads`). */
  numHeads: number;
  /** Attention heads on the way up; -1 means "same as numHeads" (`num_heads_upsample`). */
  numHeadsUpsample: number;
  /** Dropout probability inside ResBlocks (`dropout`). */
  dropout: number;
  /** FiLM-like GN(h)·(1+scale)+shift timestep conditioning (`use_scale_shift_norm`). */
  useScaleShiftNorm: boolean;
}

export interface DiffusionConfig {
  /** Number of diffusion steps T (`diffusion_steps`). */
  steps: number;
  /** β schedule (`noise_schedule`). */
  noiseSchedule: ScheduleName;
  /**
   * The paper's training objective. With the variance settings below it determines the reference's
   * loss type: see `toDiffusionKind` in referenceFlags.ts.
   */
  objective: Objective;
  /** `learn_sigma` → learned_range; otherwise `sigma_small` → fixed_small, else fixed_large. */
  varianceType: VarianceType;
  /** What the network predicts: ε (default) or x₀ (`predict_xstart` → start_x). */
  meanType: MeanType;
  /** Feed the network t·1000/T instead of t (`rescale_timesteps`). */
  rescaleTimesteps: boolean;
  /** Weight the vb term of L_hybrid by T/1000 (`rescale_learned_sigmas`); false uses weight 1. */
  rescaleLearnedSigmas: boolean;
}

export interface TrainingConfig {
  /** Which t each sample trains on (`schedule_sampler`). */
  timestepSampler: TimestepSamplerName;
  /** AdamW learning rate (`lr`). */
  lr: number;
  /** AdamW weight decay (`weight_decay`). */
  weightDecay: number;
  /** Linear anneal of lr to 0 over this many steps; 0 = constant lr (`lr_anneal_steps`). */
  lrAnnealSteps: number;
  /** Images per optimisation step (`batch_size`). */
  batchSize: number;
  /** Accumulate gradients over chunks of this size; -1 or 0 = one chunk (`microbatch`). */
  microbatch: number;
  /** EMA decay rates; one EMA copy of the weights per rate (`ema_rate` "0.9999"). */
  emaRates: number[];
  /**
   * EMA warm-up: at step k use the rate min(r, (1+k)/(10+k)), so a short run's EMA is not still mostly the
   * random initial weights (src-shared/emaWeights.ts). The reference has none: false follows it exactly.
   * Absent (configs written before the option existed) means false, as those runs trained.
   */
  emaWarmup?: boolean;
  /** Seed of every random draw of the run (init, data order, noise, t). */
  seed: number;
  /** Stop after this many steps; absent = run until stopped (the reference never stops by itself). */
  maxSteps?: number;
  /** Preferred tfjs backend for the worker. */
  backend: BackendPreference;
}

/** Periodic work during training, in optimisation steps; 0 turns a kind of work off. */
export interface IntervalsConfig {
  /** Save raw + EMA weights (`save_interval`). */
  checkpointEvery: number;
  /** Compute the per-t VLB terms and total NLL on held-out images (paper Figure 2). */
  evalEvery: number;
  /** Estimate the gradient noise scale B_simple (paper Figure 7). */
  gnsEvery: number;
  /** Draw preview samples from the EMA weights. */
  previewEvery: number;
  /** Respaced sampling steps used for previews (paper §4: ~25–100 steps keep most quality). */
  previewSteps: number;
  /** Images drawn per preview. */
  previewCount: number;
  /**
   * Checkpoints kept on disk: the newest this many, plus the best by NLL (the lowest measured at a
   * checkpoint's step; the newest when none is measured). 0 keeps every checkpoint (the reference's way).
   * Absent (configs written before the option existed) means 0, so older runs lose no checkpoint.
   */
  keepCheckpoints?: number;
}

export interface RunConfig {
  dataset: DatasetConfig;
  model: ModelConfig;
  diffusion: DiffusionConfig;
  training: TrainingConfig;
  intervals: IntervalsConfig;
}

/** The group names, in form order. */
export const RUN_CONFIG_GROUPS = ['dataset', 'model', 'diffusion', 'training', 'intervals'] as const;
export type RunConfigGroup = (typeof RUN_CONFIG_GROUPS)[number];

/** A partial config: any group, any field; arrays are replaced whole, never merged element-wise. */
export type RunConfigPatch = {
  [G in keyof RunConfig]?: Partial<RunConfig[G]>;
};

/** Recursively freeze plain objects and arrays, so the shared defaults cannot be mutated by accident. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Studio defaults. Reference values where it has them: image_size 64, num_channels 128, num_res_blocks 2,
 * num_heads 4, num_heads_upsample -1, attention "16,8", dropout 0, learn_sigma/sigma_small false (fixed_large),
 * diffusion_steps 1000, linear schedule, use_kl/predict_xstart false, rescale_* true, use_scale_shift_norm true,
 * lr 1e-4, weight_decay 0, lr_anneal_steps 0, batch_size 1, microbatch -1, ema 0.9999, save_interval 10000,
 * uniform sampler; channel_mult is what the reference derives for 64 px. The rest (dataset, eval/preview/GNS
 * intervals, backend) are studio choices. GNS is off because it needs two batch sizes and the reference's
 * batch_size default is 1.
 */
export const DEFAULT_RUN_CONFIG: Readonly<RunConfig> = deepFreeze({
  dataset: { kind: 'folder' },
  model: {
    imageSize: 64,
    imageChannels: 3,
    channels: 128,
    numResBlocks: 2,
    channelMult: [1, 2, 3, 4],
    attentionResolutions: [16, 8],
    numHeads: 4,
    numHeadsUpsample: -1,
    dropout: 0,
    useScaleShiftNorm: true,
  },
  diffusion: {
    steps: 1000,
    noiseSchedule: 'linear',
    objective: 'simple',
    varianceType: 'fixed_large',
    meanType: 'epsilon',
    rescaleTimesteps: true,
    rescaleLearnedSigmas: true,
  },
  training: {
    timestepSampler: 'uniform',
    lr: 1e-4,
    weightDecay: 0,
    lrAnnealSteps: 0,
    batchSize: 1,
    microbatch: -1,
    emaRates: [0.9999],
    emaWarmup: false,
    seed: 0,
    backend: 'auto',
  },
  intervals: {
    checkpointEvery: 10000,
    evalEvery: 10000,
    gnsEvery: 0,
    previewEvery: 5000,
    previewSteps: 25,
    previewCount: 16,
    keepCheckpoints: 3,
  },
} satisfies RunConfig);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep copy of plain data (objects, arrays, primitives). */
function clonePlain<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => clonePlain(x)) as T;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = clonePlain(x);
    return out as T;
  }
  return v;
}

/**
 * Merge `patch` over `base`: objects merge key by key, anything else (arrays included) replaces.
 * `undefined` in the patch means "not given" so a form can pass its untouched fields through.
 * Keys the base does not know are kept, not dropped, so validateRunConfig can report them
 * ("unknown option 'foo'") instead of a typo silently having no effect.
 */
function mergePlain(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return clonePlain(base);
  if (isPlainObject(base) && isPlainObject(patch)) {
    const out: Record<string, unknown> = clonePlain(base);
    for (const [k, v] of Object.entries(patch)) out[k] = mergePlain(base[k], v);
    return out;
  }
  return clonePlain(patch);
}

/**
 * A complete config: `partial` deep-merged over DEFAULT_RUN_CONFIG. The result shares no objects with
 * either input. It is not validated: call validateRunConfig on it.
 */
export function withDefaults(partial: RunConfigPatch = {}): RunConfig {
  return mergePlain(DEFAULT_RUN_CONFIG, partial) as RunConfig;
}

/** A deep, mutable copy of a config. */
export function cloneRunConfig(cfg: Readonly<RunConfig>): RunConfig {
  return clonePlain(cfg) as RunConfig;
}
