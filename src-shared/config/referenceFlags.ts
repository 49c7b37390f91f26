/**
 * The bridge to the reference implementation (openai/improved-diffusion): its command-line flags and the
 * diffusion types its create_gaussian_diffusion derives from them.
 *
 * - `toDiffusionKind(cfg)`: the engine's mean/variance/loss types for a config, following
 *   script_util.create_gaussian_diffusion. The engine switches on these, never on `objective` directly,
 *   so a run imported from the reference computes exactly what the reference would.
 * - `fromReferenceFlags(flags)` / `importReferenceFlags(flags)`: a RunConfig from the flags of a
 *   reference run (image_train.py: model_and_diffusion_defaults() plus the training flags). Missing flags
 *   take the reference's defaults. Values may be given as argparse strings ("True", "16,8", "1e-4").
 * - `toReferenceFlags(cfg)`: the other way, for "copy as reference command" and round-trip tests.
 */
import type { LossType, MeanType, Objective, VarianceType } from '../diffusion/types';
import { isLearnedVariance } from '../diffusion/types';
import { SCHEDULE_NAMES, TIMESTEP_SAMPLERS, isOneOf } from './enums';
import { REFERENCE_IMAGE_SIZES, referenceChannelMult } from './geometry';
import { DEFAULT_RUN_CONFIG, type RunConfig, withDefaults } from './runConfig';

export { attentionDownsampleFactors } from './geometry';

/** What the engine needs to know to compute losses and sampling steps (SPEC §3, §4, §7). */
export interface DiffusionKind {
  meanType: MeanType;
  varianceType: VarianceType;
  lossType: LossType;
  rescaleTimesteps: boolean;
}

/**
 * The engine's diffusion types for a config, as the reference derives them:
 * use_kl → rescaled_kl; else rescale_learned_sigmas → rescaled_mse; else mse.
 * Note the reference picks rescaled_mse whenever rescale_learned_sigmas is set, even with a fixed
 * variance; with a fixed variance mse and rescaled_mse compute the same loss (there is no vb term).
 * Plain 'kl' (L_vlb without the ×T) is not reachable from the reference's flags, so it is not either here.
 */
export function toDiffusionKind(cfg: Pick<RunConfig, 'diffusion'>): DiffusionKind {
  const d = cfg.diffusion;
  let lossType: LossType;
  if (d.objective === 'vlb') lossType = 'rescaled_kl';
  else if (d.rescaleLearnedSigmas) lossType = 'rescaled_mse';
  else lossType = 'mse';
  return {
    meanType: d.meanType,
    varianceType: d.varianceType,
    lossType,
    rescaleTimesteps: d.rescaleTimesteps,
  };
}

/** The flags of the reference's model_and_diffusion_defaults() (script_util.py), with Python's types. */
export interface ReferenceModelAndDiffusionFlags {
  image_size: number;
  num_channels: number;
  num_res_blocks: number;
  num_heads: number;
  num_heads_upsample: number;
  /** Comma-separated pixels, e.g. "16,8". */
  attention_resolutions: string;
  dropout: number;
  learn_sigma: boolean;
  sigma_small: boolean;
  class_cond: boolean;
  diffusion_steps: number;
  noise_schedule: string;
  timestep_respacing: string;
  use_kl: boolean;
  predict_xstart: boolean;
  rescale_timesteps: boolean;
  rescale_learned_sigmas: boolean;
  use_checkpoint: boolean;
  use_scale_shift_norm: boolean;
}

/** The training flags of the reference's scripts/image_train.py create_argparser(). */
export interface ReferenceTrainFlags {
  data_dir: string;
  schedule_sampler: string;
  lr: number;
  weight_decay: number;
  lr_anneal_steps: number;
  batch_size: number;
  microbatch: number;
  /** Comma-separated EMA rates, e.g. "0.9999". */
  ema_rate: string;
  log_interval: number;
  save_interval: number;
  resume_checkpoint: string;
  use_fp16: boolean;
  fp16_scale_growth: number;
}

export type ReferenceFlags = ReferenceModelAndDiffusionFlags & ReferenceTrainFlags;

/**
 * What the import accepts: typed flags, or any record (values parsed from JSON or a command line,
 * possibly as argparse strings such as "True" or "16,8").
 */
export type ReferenceFlagInput = Partial<ReferenceFlags> | Readonly<Record<string, unknown>>;

export const REFERENCE_MODEL_AND_DIFFUSION_DEFAULTS: Readonly<ReferenceModelAndDiffusionFlags> = Object.freeze({
  image_size: 64,
  num_channels: 128,
  num_res_blocks: 2,
  num_heads: 4,
  num_heads_upsample: -1,
  attention_resolutions: '16,8',
  dropout: 0.0,
  learn_sigma: false,
  sigma_small: false,
  class_cond: false,
  diffusion_steps: 1000,
  noise_schedule: 'linear',
  timestep_respacing: '',
  use_kl: false,
  predict_xstart: false,
  rescale_timesteps: true,
  rescale_learned_sigmas: true,
  use_checkpoint: false,
  use_scale_shift_norm: true,
});

export const REFERENCE_TRAIN_DEFAULTS: Readonly<ReferenceTrainFlags> = Object.freeze({
  data_dir: '',
  schedule_sampler: 'uniform',
  lr: 1e-4,
  weight_decay: 0.0,
  lr_anneal_steps: 0,
  batch_size: 1,
  microbatch: -1,
  ema_rate: '0.9999',
  log_interval: 10,
  save_interval: 10000,
  resume_checkpoint: '',
  use_fp16: false,
  fp16_scale_growth: 1e-3,
});

const REFERENCE_DEFAULTS: Readonly<Record<string, unknown>> = {
  ...REFERENCE_MODEL_AND_DIFFUSION_DEFAULTS,
  ...REFERENCE_TRAIN_DEFAULTS,
};

/** A reference flag the import did not carry into the config, and why. */
export interface IgnoredFlag {
  flag: string;
  value: unknown;
  reason: string;
}

export interface ImportedReferenceRun {
  config: RunConfig;
  /** Flags that had no effect on `config` although set to a non-default value, or unknown flags. */
  ignored: IgnoredFlag[];
}

// ---------------------------------------------------------------------------------------------------------
// Parsing argparse-style values. The reference reads every flag through argparse with the type of its
// default (str2bool for booleans), so values pasted from a command line arrive as strings.

const TRUE_WORDS = ['yes', 'true', 't', 'y', '1'];
const FALSE_WORDS = ['no', 'false', 'f', 'n', '0'];
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

class FlagReader {
  readonly errors: string[] = [];
  constructor(private readonly flags: Readonly<Record<string, unknown>>) {}

  raw(flag: string): unknown {
    return this.flags[flag] !== undefined ? this.flags[flag] : REFERENCE_DEFAULTS[flag];
  }

  bool(flag: string): boolean {
    const v = this.raw(flag);
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && TRUE_WORDS.includes(v.toLowerCase())) return true;
    if (typeof v === 'string' && FALSE_WORDS.includes(v.toLowerCase())) return false;
    if (v === 0 || v === 1) return v === 1;
    this.errors.push(`${flag}: expected a boolean (True/False), got ${JSON.stringify(v)}`);
    return false;
  }

  float(flag: string): number {
    return this.number(flag, this.raw(flag), false);
  }

  int(flag: string): number {
    return this.number(flag, this.raw(flag), true);
  }

  str(flag: string): string {
    const v = this.raw(flag);
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    this.errors.push(`${flag}: expected a string, got ${JSON.stringify(v)}`);
    return '';
  }

  /** A comma-separated list ("16,8", argparse style), a single number, or an array of numbers. */
  numberList(flag: string, integer: boolean): number[] {
    const v = this.raw(flag);
    let items: unknown[];
    if (Array.isArray(v)) items = v;
    else if (typeof v === 'number') items = [v];
    else if (typeof v === 'string') items = v.trim() === '' ? [] : v.split(',').map((s) => s.trim());
    else {
      this.errors.push(`${flag}: expected a comma-separated list such as "16,8", got ${JSON.stringify(v)}`);
      return [];
    }
    return items.map((x) => this.number(flag, x, integer));
  }

  private number(flag: string, v: unknown, integer: boolean): number {
    let n = NaN;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && NUMBER_RE.test(v.trim())) n = Number(v.trim());
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      this.errors.push(`${flag}: expected ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`);
      return NaN;
    }
    return n;
  }
}

/** Loose equality for "is this flag at its default?" notes: compares after argparse-style stringification. */
function sameAsDefault(flag: string, v: unknown): boolean {
  const d = REFERENCE_DEFAULTS[flag];
  if (typeof d === 'boolean') return String(v).toLowerCase() === String(d).toLowerCase();
  if (typeof d === 'number') return Number(v) === d;
  return String(v) === String(d);
}

/** Flags the studio reads; everything else is reported in `ignored`. */
const CARRIED_FLAGS = new Set([
  'image_size', 'num_channels', 'num_res_blocks', 'num_heads', 'num_heads_upsample', 'attention_resolutions',
  'dropout', 'learn_sigma', 'sigma_small', 'class_cond', 'diffusion_steps', 'noise_schedule',
  'timestep_respacing', 'use_kl', 'predict_xstart', 'rescale_timesteps', 'rescale_learned_sigmas',
  'use_scale_shift_norm', 'data_dir', 'schedule_sampler', 'lr', 'weight_decay', 'lr_anneal_steps',
  'batch_size', 'microbatch', 'ema_rate', 'save_interval',
]);

/** Why the known flags the studio does not carry have no counterpart. */
const UNCARRIED_REASONS: Readonly<Record<string, string>> = {
  use_checkpoint: 'gradient checkpointing only trades compute for memory; results are the same without it',
  log_interval: 'the studio records metrics every step',
  resume_checkpoint: 'resume a studio run from its own checkpoints instead',
  use_fp16: 'the studio trains in float32',
  fp16_scale_growth: 'the studio trains in float32',
};

/**
 * Translate the reference's attention_resolutions the way its create_model does: ds = image_size // res,
 * and the UNet adds attention where its running ds (1, 2, 4, …) equals one of those. A resolution that
 * does not divide the image size therefore lands on the level of ds, or on none, and this returns the
 * resolutions the reference actually builds.
 */
function referenceAttention(
  imageSize: number,
  levels: number,
  resolutions: number[],
  ignored: IgnoredFlag[],
): number[] {
  const out: number[] = [];
  for (const res of resolutions) {
    const ds = Math.floor(imageSize / res);
    const isLevel = ds >= 1 && Number.isInteger(Math.log2(ds)) && ds <= 2 ** (levels - 1);
    if (!isLevel) {
      ignored.push({
        flag: 'attention_resolutions',
        value: res,
        reason: `image_size // ${res} = ${ds} is no level's downsample factor, so the reference adds no attention for it`,
      });
      continue;
    }
    const actual = imageSize / ds;
    if (actual !== res) {
      ignored.push({
        flag: 'attention_resolutions',
        value: res,
        reason: `the reference floors image_size // ${res} = ${ds}, so its attention is at ${actual} px; imported as ${actual}`,
      });
    }
    if (!out.includes(actual)) out.push(actual);
  }
  return out;
}

export interface ReferenceImportOptions {
  /**
   * The model's channel_mult when known from elsewhere (a checkpoint's tensor shapes): a reference model
   * built with UNetModel directly may use any, while the flags alone imply create_model's table by image size.
   */
  channelMult?: readonly number[];
}

/**
 * A RunConfig (plus notes) from the flags of a reference run. Throws one Error listing every flag that
 * cannot be read or represented (bad values, class_cond, image sizes the reference rejects).
 * Options the reference has no flag for (seed, eval/preview/GNS intervals, backend) take studio defaults.
 * Range problems (e.g. num_channels 48) are left to validateRunConfig, which explains them better.
 */
export function importReferenceFlags(input: ReferenceFlagInput, opts: ReferenceImportOptions = {}): ImportedReferenceRun {
  const flags = input as Readonly<Record<string, unknown>>;
  const r = new FlagReader(flags);
  const ignored: IgnoredFlag[] = [];

  const imageSize = r.int('image_size');
  const channelMult = opts.channelMult ? [...opts.channelMult] : Number.isFinite(imageSize) ? referenceChannelMult(imageSize) : undefined;
  if (Number.isFinite(imageSize) && !channelMult) {
    r.errors.push(`image_size: the reference supports ${REFERENCE_IMAGE_SIZES.join(', ')}, not ${imageSize}`);
  }
  if (r.bool('class_cond')) {
    r.errors.push('class_cond: class-conditional models are not supported by the studio');
  }
  const noiseSchedule = r.str('noise_schedule');
  if (!isOneOf(SCHEDULE_NAMES, noiseSchedule)) {
    r.errors.push(`noise_schedule: expected one of ${SCHEDULE_NAMES.join(', ')}, got ${JSON.stringify(noiseSchedule)}`);
  }
  const sampler = r.str('schedule_sampler');
  if (!isOneOf(TIMESTEP_SAMPLERS, sampler)) {
    r.errors.push(`schedule_sampler: expected one of ${TIMESTEP_SAMPLERS.join(', ')}, got ${JSON.stringify(sampler)}`);
  }

  // create_gaussian_diffusion: learn_sigma wins over sigma_small; use_kl decides the loss.
  const learnSigma = r.bool('learn_sigma');
  const sigmaSmall = r.bool('sigma_small');
  const useKl = r.bool('use_kl');
  const varianceType: VarianceType = learnSigma ? 'learned_range' : sigmaSmall ? 'fixed_small' : 'fixed_large';
  const objective: Objective = useKl ? 'vlb' : learnSigma ? 'hybrid' : 'simple';

  const levels = channelMult?.length ?? 1;
  const attention = r.numberList('attention_resolutions', true);
  const attentionResolutions = channelMult ? referenceAttention(imageSize, levels, attention, ignored) : [];

  // timestep_respacing only changes which steps the reference trains/samples on; the studio always trains
  // on all T steps, and uses a plain step count for its previews.
  let previewSteps = DEFAULT_RUN_CONFIG.intervals.previewSteps;
  const respacing = r.str('timestep_respacing').trim();
  if (respacing !== '') {
    if (/^\d+$/.test(respacing)) {
      previewSteps = Number(respacing);
      ignored.push({
        flag: 'timestep_respacing',
        value: respacing,
        reason: 'the studio trains on all diffusion steps; the count is used as intervals.previewSteps',
      });
    } else {
      ignored.push({
        flag: 'timestep_respacing',
        value: respacing,
        reason: 'the studio trains on all diffusion steps; choose the sampling spacing when sampling',
      });
    }
  }

  const dataDir = r.str('data_dir');
  const config = withDefaults({
    dataset: dataDir.trim() !== '' ? { kind: 'folder', path: dataDir } : { kind: 'folder' },
    model: {
      imageSize,
      imageChannels: 3, // the reference's image loader always converts to RGB
      channels: r.int('num_channels'),
      numResBlocks: r.int('num_res_blocks'),
      channelMult: channelMult ?? [],
      attentionResolutions,
      numHeads: r.int('num_heads'),
      numHeadsUpsample: r.int('num_heads_upsample'),
      dropout: r.float('dropout'),
      useScaleShiftNorm: r.bool('use_scale_shift_norm'),
    },
    diffusion: {
      steps: r.int('diffusion_steps'),
      noiseSchedule: noiseSchedule as RunConfig['diffusion']['noiseSchedule'],
      objective,
      varianceType,
      meanType: r.bool('predict_xstart') ? 'start_x' : 'epsilon',
      rescaleTimesteps: r.bool('rescale_timesteps'),
      rescaleLearnedSigmas: r.bool('rescale_learned_sigmas'),
    },
    training: {
      timestepSampler: sampler as RunConfig['training']['timestepSampler'],
      lr: r.float('lr'),
      weightDecay: r.float('weight_decay'),
      lrAnnealSteps: r.int('lr_anneal_steps'),
      batchSize: r.int('batch_size'),
      microbatch: r.int('microbatch'),
      emaRates: r.numberList('ema_rate', false),
    },
    intervals: {
      checkpointEvery: r.int('save_interval'),
      previewSteps,
    },
  });

  if (r.errors.length > 0) {
    throw new Error(`cannot import the reference flags:\n${r.errors.map((e) => `- ${e}`).join('\n')}`);
  }

  for (const [flag, value] of Object.entries(flags)) {
    if (value === undefined || CARRIED_FLAGS.has(flag)) continue;
    const reason = UNCARRIED_REASONS[flag];
    if (reason === undefined) {
      ignored.push({ flag, value, reason: 'not a flag of the reference image_train.py' });
    } else if (!sameAsDefault(flag, value)) {
      ignored.push({ flag, value, reason });
    }
  }
  return { config, ignored };
}

/** `importReferenceFlags(flags).config`: for callers that do not show the notes. */
export function fromReferenceFlags(flags: ReferenceFlagInput): RunConfig {
  return importReferenceFlags(flags).config;
}

export interface ExportedReferenceFlags {
  flags: ReferenceFlags;
  /** Settings of the config the reference cannot express; empty when the flags reproduce the run exactly. */
  unrepresentable: string[];
}

/**
 * The reference flags for a config. Everything the reference cannot express is listed in `unrepresentable`
 * (the flags then describe the closest reference run). Studio-only options (seed, backend, eval/preview/GNS
 * intervals, maxSteps) have no flag and are not listed.
 */
export function toReferenceFlags(cfg: RunConfig): ExportedReferenceFlags {
  const { dataset, model: m, diffusion: d, training: t, intervals } = cfg;
  const unrepresentable: string[] = [];

  const refMult = referenceChannelMult(m.imageSize);
  if (!refMult) {
    unrepresentable.push(`model.imageSize ${m.imageSize}: the reference supports ${REFERENCE_IMAGE_SIZES.join(', ')}`);
  } else if (refMult.join(',') !== m.channelMult.join(',')) {
    unrepresentable.push(`model.channelMult [${m.channelMult.join(', ')}]: the reference uses [${refMult.join(', ')}] at ${m.imageSize} px`);
  }
  if (m.imageChannels !== 3) unrepresentable.push(`model.imageChannels ${m.imageChannels}: the reference trains on RGB`);
  if (m.attentionResolutions.length === 0) {
    unrepresentable.push('model.attentionResolutions []: the reference needs at least one resolution');
  }
  if (d.varianceType === 'learned') unrepresentable.push("diffusion.varianceType 'learned': the reference's flags only reach learned_range");
  if (d.objective === 'simple' && isLearnedVariance(d.varianceType)) {
    unrepresentable.push("diffusion.objective 'simple' with a learned variance: the reference trains L_hybrid then");
  }
  if (d.objective === 'hybrid' && !isLearnedVariance(d.varianceType)) {
    unrepresentable.push("diffusion.objective 'hybrid' with a fixed variance: the reference trains L_simple then");
  }
  if (dataset.kind !== 'folder') {
    unrepresentable.push(`dataset.kind '${dataset.kind}': the reference reads a folder of images (data_dir)`);
  }
  const flags: ReferenceFlags = {
    image_size: m.imageSize,
    num_channels: m.channels,
    num_res_blocks: m.numResBlocks,
    num_heads: m.numHeads,
    num_heads_upsample: m.numHeadsUpsample,
    attention_resolutions: m.attentionResolutions.join(','),
    dropout: m.dropout,
    learn_sigma: d.varianceType === 'learned_range' || d.varianceType === 'learned',
    sigma_small: d.varianceType === 'fixed_small',
    class_cond: false,
    diffusion_steps: d.steps,
    noise_schedule: d.noiseSchedule,
    timestep_respacing: '',
    use_kl: d.objective === 'vlb',
    predict_xstart: d.meanType === 'start_x',
    rescale_timesteps: d.rescaleTimesteps,
    rescale_learned_sigmas: d.rescaleLearnedSigmas,
    use_checkpoint: false,
    use_scale_shift_norm: m.useScaleShiftNorm,
    data_dir: dataset.path ?? '',
    schedule_sampler: t.timestepSampler,
    lr: t.lr,
    weight_decay: t.weightDecay,
    lr_anneal_steps: t.lrAnnealSteps,
    batch_size: t.batchSize,
    microbatch: t.microbatch <= 0 ? -1 : t.microbatch, // -1 is the reference's spelling of "off"
    ema_rate: t.emaRates.join(','),
    log_interval: REFERENCE_TRAIN_DEFAULTS.log_interval,
    save_interval: intervals.checkpointEvery,
    resume_checkpoint: '',
    use_fp16: false,
    fp16_scale_growth: REFERENCE_TRAIN_DEFAULTS.fp16_scale_growth,
  };
  if (t.emaRates.length === 0) unrepresentable.push('training.emaRates []: the reference needs at least one EMA rate');
  if (t.emaWarmup) unrepresentable.push('training.emaWarmup true: the reference has no EMA warm-up (its rate is constant)');
  return { flags, unrepresentable };
}
