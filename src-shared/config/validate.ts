/**
 * Validation of a run config, for the New Run form, the CLI and the run service alike.
 *
 * It takes `unknown` (a config may come from JSON, a form or an old database row) and returns EVERY
 * problem, each with the dotted path of the field it belongs to (so a form can put the message under
 * that field) and a message that says what is wrong and how to fix it.
 *
 * Design choices:
 * - Problems are errors only; there are no warnings. Combinations the reference allows but that are
 *   unusual are accepted: L_vlb with a fixed variance (only ε learns), the loss-second-moment sampler
 *   with L_simple, any image size the data layer can pad/resize to.
 * - A field with the wrong type gets one problem and is then skipped by the value and cross-field
 *   checks, so one typo does not produce a cascade of messages.
 * - L_simple with a learned variance is rejected: in the reference (loss mse + learned_range) that
 *   combination trains L_hybrid, so accepting it would make the objective shown to the user a lie.
 * - Every size has an upper bound (limits.ts), because a size is an allocation; once every field is
 *   valid, the parameter count and the training-memory estimate are checked too (memoryCheck.ts), against
 *   the memory given in the options (a worker passes its machine's) or the studio's absolute ceiling.
 */
import { isLearnedVariance } from '../diffusion/types';
import {
  BACKEND_PREFERENCES,
  DATASET_KINDS,
  MEAN_TYPES,
  OBJECTIVES,
  SCHEDULE_NAMES,
  TIMESTEP_SAMPLERS,
  VARIANCE_TYPES,
  isOneOf,
} from './enums';
import { GROUP_NORM_GROUPS } from './geometry';
import { MAX_MEMORY_BYTES, SIZE_LIMITS } from './limits';
import { formatBytes, parameterProblem, trainingMemoryProblem, type MemoryLimit } from './memoryCheck';
import { RUN_CONFIG_GROUPS, type RunConfig, type RunConfigGroup } from './runConfig';

export interface ConfigProblem {
  /** Dotted path of the offending field, e.g. "model.channels"; "" for the config as a whole. */
  field: string;
  /** What is wrong and how to fix it, naming the field. */
  message: string;
}

export interface ValidateOptions {
  /**
   * Also require what only matters when a run actually starts: a dataset path for kinds without a
   * default location ('folder'). Off by default so presets and half-filled forms validate.
   */
  requireDatasetPath?: boolean;
  /**
   * Memory the run may use, checked against the training-memory estimate once every field is valid.
   * Default: the studio's absolute ceiling (MAX_MEMORY_BYTES); a worker passes its machine's and backend's.
   */
  memory?: MemoryLimit;
}

/** The memory assumed when ValidateOptions.memory is not given. */
export const DEFAULT_MEMORY_LIMIT: MemoryLimit = {
  bytes: MAX_MEMORY_BYTES,
  what: `the ${formatBytes(MAX_MEMORY_BYTES)} the studio accepts at most`,
};

type FieldKind = 'number' | 'boolean' | 'string' | 'numberArray';
interface FieldSpec {
  kind: FieldKind;
  optional?: boolean;
}

/**
 * The expected JS type of every field. The `satisfies` clause makes the compiler check that this table
 * lists exactly the fields of RunConfig, so the validator cannot fall behind the schema.
 */
const SCHEMA = {
  dataset: {
    kind: { kind: 'string' },
    path: { kind: 'string', optional: true },
  },
  model: {
    imageSize: { kind: 'number' },
    imageChannels: { kind: 'number' },
    channels: { kind: 'number' },
    numResBlocks: { kind: 'number' },
    channelMult: { kind: 'numberArray' },
    attentionResolutions: { kind: 'numberArray' },
    numHeads: { kind: 'number' },
    numHeadsUpsample: { kind: 'number' },
    dropout: { kind: 'number' },
    useScaleShiftNorm: { kind: 'boolean' },
  },
  diffusion: {
    steps: { kind: 'number' },
    noiseSchedule: { kind: 'string' },
    objective: { kind: 'string' },
    varianceType: { kind: 'string' },
    meanType: { kind: 'string' },
    rescaleTimesteps: { kind: 'boolean' },
    rescaleLearnedSigmas: { kind: 'boolean' },
  },
  training: {
    timestepSampler: { kind: 'string' },
    lr: { kind: 'number' },
    weightDecay: { kind: 'number' },
    lrAnnealSteps: { kind: 'number' },
    batchSize: { kind: 'number' },
    microbatch: { kind: 'number' },
    emaRates: { kind: 'numberArray' },
    emaWarmup: { kind: 'boolean', optional: true },
    seed: { kind: 'number' },
    maxSteps: { kind: 'number', optional: true },
    backend: { kind: 'string' },
  },
  intervals: {
    checkpointEvery: { kind: 'number' },
    evalEvery: { kind: 'number' },
    gnsEvery: { kind: 'number' },
    previewEvery: { kind: 'number' },
    previewSteps: { kind: 'number' },
    previewCount: { kind: 'number' },
    keepCheckpoints: { kind: 'number', optional: true },
  },
} as const satisfies { [G in RunConfigGroup]: { [K in keyof Required<RunConfig[G]>]: FieldSpec } };

const MAX_SEED = 2 ** 32 - 1;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** How a wrong value reads in a message: `string "64"`, `null`, `array`, … */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return String(v);
  return typeof v;
}

function quoteList(list: readonly string[]): string {
  return list.map((s) => `'${s}'`).join(', ');
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function divisors(n: number, max = 6): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n && out.length < max; d++) if (n % d === 0) out.push(d);
  return out;
}

/**
 * The typed pass: per group, the fields whose JS type is right. Fields missing or mistyped are absent,
 * and the value checks below simply skip them.
 */
type Typed = { [G in RunConfigGroup]: Partial<RunConfig[G]> };

class Checker {
  readonly problems: ConfigProblem[] = [];
  add(field: string, message: string): void {
    this.problems.push({ field, message });
  }

  /** Type pass over one field; returns whether the value may be used by the value checks. */
  typeCheck(field: string, spec: FieldSpec, v: unknown): boolean {
    if (v === undefined) {
      if (!spec.optional) this.add(field, `${field} is missing: set it (withDefaults fills every field).`);
      return false;
    }
    switch (spec.kind) {
      case 'number':
        if (typeof v !== 'number') {
          this.add(field, `${field} must be a number, not ${describe(v)}: write it without quotes.`);
          return false;
        }
        if (!Number.isFinite(v)) {
          this.add(field, `${field} must be a finite number, not ${describe(v)}.`);
          return false;
        }
        return true;
      case 'boolean':
        if (typeof v !== 'boolean') {
          this.add(field, `${field} must be true or false, not ${describe(v)}.`);
          return false;
        }
        return true;
      case 'string':
        if (typeof v !== 'string') {
          this.add(field, `${field} must be a string, not ${describe(v)}.`);
          return false;
        }
        return true;
      case 'numberArray':
        if (!Array.isArray(v)) {
          this.add(field, `${field} must be a list of numbers such as [16, 8], not ${describe(v)}.`);
          return false;
        }
        if (!v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
          const bad = v.find((x) => !(typeof x === 'number' && Number.isFinite(x)));
          this.add(field, `${field} must contain only finite numbers; ${describe(bad)} is not one.`);
          return false;
        }
        return true;
    }
  }

  /** Integer in [min, max]. Returns whether it passed. `why` explains the value, `bigger` what a larger one costs. */
  int(field: string, v: number | undefined, min: number, why = '', max = Number.MAX_SAFE_INTEGER, bigger = ''): v is number {
    if (v === undefined) return false;
    if (!Number.isInteger(v) || v < min) {
      const what = min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
      this.add(field, `${field} ${v} must be ${what}${why}.`);
      return false;
    }
    if (v > max) {
      this.add(field, `${field} ${v} is more than ${max}${bigger ? `, ${bigger}` : ''}: lower it to at most ${max}.`);
      return false;
    }
    return true;
  }

  /** A list of at most `max` entries. */
  listLength(field: string, list: readonly unknown[] | undefined, max: number, what: string): boolean {
    if (list === undefined || list.length <= max) return true;
    this.add(field, `${field} has ${list.length} entries, more than ${max} (${what}): remove some.`);
    return false;
  }

  enumValue(field: string, list: readonly string[], v: string | undefined, what: string): void {
    if (v !== undefined && !list.includes(v)) {
      this.add(field, `${field} '${v}' is not a ${what}: choose one of ${quoteList(list)}.`);
    }
  }
}

/** Pass 1: shape and JS types, unknown keys included. */
function typePass(c: Checker, cfg: Record<string, unknown>): Typed {
  const typed = {} as Record<RunConfigGroup, Record<string, unknown>>;
  for (const key of Object.keys(cfg)) {
    if (!(RUN_CONFIG_GROUPS as readonly string[]).includes(key)) {
      c.add(key, `unknown option '${key}': remove it (groups are ${quoteList(RUN_CONFIG_GROUPS)}).`);
    }
  }
  for (const group of RUN_CONFIG_GROUPS) {
    typed[group] = {};
    const g = cfg[group];
    if (g === undefined) {
      c.add(group, `${group} is missing: add the group (withDefaults fills every field).`);
      continue;
    }
    if (!isPlainObject(g)) {
      c.add(group, `${group} must be an object of options, not ${describe(g)}.`);
      continue;
    }
    const specs: Record<string, FieldSpec> = SCHEMA[group];
    for (const key of Object.keys(g)) {
      if (!(key in specs)) {
        c.add(
          `${group}.${key}`,
          `unknown option '${key}' in ${group}: remove it or use one of ${quoteList(Object.keys(specs))}.`,
        );
      }
    }
    for (const [key, spec] of Object.entries(specs)) {
      if (c.typeCheck(`${group}.${key}`, spec, g[key])) typed[group][key] = g[key];
    }
  }
  return typed as Typed;
}

function checkDataset(c: Checker, t: Typed, opts: ValidateOptions): void {
  const { kind, path } = t.dataset;
  c.enumValue('dataset.kind', DATASET_KINDS, kind, 'dataset kind');
  if (path !== undefined && path.trim() === '') {
    c.add('dataset.path', 'dataset.path is empty: choose a file or folder, or remove it to use the default location.');
  }
  if (opts.requireDatasetPath && kind === 'folder' && (path === undefined || path.trim() === '')) {
    c.add('dataset.path', "dataset.path is required for kind 'folder': choose the folder of training images.");
  }
  // Grayscale sources cannot fill 3 channels and vice versa without inventing data; say so here rather
  // than let the data layer fail at step 0.
  const ch = t.model.imageChannels;
  if (ch !== undefined && (kind === 'mnist' || kind === 'idx') && ch !== 1) {
    c.add('model.imageChannels', `model.imageChannels ${ch} does not match dataset '${kind}' (grayscale): set it to 1.`);
  }
  if (ch !== undefined && kind === 'cifar10' && ch !== 3) {
    c.add('model.imageChannels', `model.imageChannels ${ch} does not match dataset 'cifar10' (RGB): set it to 3.`);
  }
}

function checkModel(c: Checker, t: Typed): void {
  const m = t.model;
  const L = SIZE_LIMITS;
  const sizeOk = c.int('model.imageSize', m.imageSize, 1, '', L.imageSize, 'the largest image side the studio trains');
  if (m.imageChannels !== undefined && m.imageChannels !== 1 && m.imageChannels !== 3) {
    c.add('model.imageChannels', `model.imageChannels ${m.imageChannels} is not supported: use 1 (grayscale) or 3 (RGB).`);
  }
  let channelsOk = c.int('model.channels', m.channels, 1, '', L.channels, 'the widest base the studio trains (the paper uses 128–192)');
  if (channelsOk && m.channels! % GROUP_NORM_GROUPS !== 0) {
    // Every level has mult·C channels with integer mult, so C being a multiple of 32 is exactly the
    // condition for every GroupNorm in the network (input, levels, skip concatenations, head) to work.
    const lo = Math.max(GROUP_NORM_GROUPS, Math.floor(m.channels! / GROUP_NORM_GROUPS) * GROUP_NORM_GROUPS);
    c.add(
      'model.channels',
      `model.channels ${m.channels} must be a multiple of ${GROUP_NORM_GROUPS} (GroupNorm has ${GROUP_NORM_GROUPS} groups): use ${lo} or ${lo + GROUP_NORM_GROUPS}.`,
    );
    channelsOk = false;
  }
  c.int('model.numResBlocks', m.numResBlocks, 1, '', L.numResBlocks, 'the paper uses 2–3');

  let multOk = c.listLength('model.channelMult', m.channelMult, L.levels, `a ${L.imageSize} px image halves to 1 px after ${L.levels - 1} levels`) && m.channelMult !== undefined;
  if (multOk) {
    if (m.channelMult!.length === 0) {
      c.add('model.channelMult', 'model.channelMult is empty: give one multiplier per resolution level, e.g. [1, 2, 2, 2].');
      multOk = false;
    } else {
      const bad = m.channelMult!.find((x) => !Number.isInteger(x) || x < 1);
      const big = m.channelMult!.find((x) => x > L.channelMultEntry);
      if (bad !== undefined) {
        c.add('model.channelMult', `model.channelMult entry ${bad} must be a positive integer, e.g. [1, 2, 2, 2].`);
        multOk = false;
      } else if (big !== undefined) {
        c.add('model.channelMult', `model.channelMult entry ${big} is more than ${L.channelMultEntry} (the paper's largest is 4): lower it.`);
        multOk = false;
      }
    }
  }
  const levels = multOk ? m.channelMult!.length : 0;
  const geometryOk = sizeOk && multOk;
  if (geometryOk && m.imageSize! % 2 ** (levels - 1) !== 0) {
    const f = 2 ** (levels - 1);
    c.add(
      'model.imageSize',
      `model.imageSize ${m.imageSize} must be divisible by ${f} (channelMult has ${levels} levels and each but the last halves the size): use a multiple of ${f} such as ${Math.ceil(m.imageSize! / f) * f}, or fewer levels.`,
    );
  }
  const sizeDivisible = geometryOk && m.imageSize! % 2 ** (levels - 1) === 0;
  const resolutions = sizeDivisible ? m.channelMult!.map((_, i) => m.imageSize! / 2 ** i) : [];

  // Attention resolutions: must be one of the level resolutions, or the reference's floor division
  // (imageSize // res) would put attention somewhere else than asked, or nowhere.
  let attnOk =
    m.attentionResolutions !== undefined &&
    c.listLength('model.attentionResolutions', m.attentionResolutions, L.attentionResolutions, 'at most one per resolution level');
  if (attnOk) {
    for (const res of m.attentionResolutions!) {
      if (!Number.isInteger(res) || res < 1) {
        c.add('model.attentionResolutions', `model.attentionResolutions entry ${res} must be a positive integer (pixels), e.g. [16, 8].`);
        attnOk = false;
      } else if (sizeDivisible && !resolutions.includes(res)) {
        c.add(
          'model.attentionResolutions',
          `attention resolution ${res} is not reached by image size ${m.imageSize} (reachable: ${resolutions.join(', ')}): fix model.attentionResolutions.`,
        );
        attnOk = false;
      }
    }
  }

  const headsOk = c.int('model.numHeads', m.numHeads, 1, '', L.numHeads, 'the paper uses 4');
  let upOk = m.numHeadsUpsample !== undefined;
  if (m.numHeadsUpsample !== undefined && m.numHeadsUpsample !== -1 && !(Number.isInteger(m.numHeadsUpsample) && m.numHeadsUpsample >= 1)) {
    c.add('model.numHeadsUpsample', `model.numHeadsUpsample ${m.numHeadsUpsample} must be a positive integer, or -1 for the same as model.numHeads.`);
    upOk = false;
  } else if (m.numHeadsUpsample !== undefined && m.numHeadsUpsample > L.numHeads) {
    c.add('model.numHeadsUpsample', `model.numHeadsUpsample ${m.numHeadsUpsample} is more than ${L.numHeads}: lower it, or use -1 for the same as model.numHeads.`);
    upOk = false;
  }

  // Heads split a block's channels evenly (SPEC §7: contiguous blocks of 3C/heads). Down-path and middle
  // attention use numHeads (the middle block always has attention); up-path attention uses the upsample heads.
  if (channelsOk && sizeDivisible && attnOk) {
    const C = m.channels!;
    const mult = m.channelMult!;
    const attnLevels = mult.map((_, i) => i).filter((i) => m.attentionResolutions!.includes(resolutions[i]!));
    const where = (i: number) => `${mult[i]! * C} at ${resolutions[i]} px`;
    const middle = { ch: mult[levels - 1]! * C, label: `${mult[levels - 1]! * C} in the middle block` };
    const checkHeads = (field: string, heads: number, sites: { ch: number; label: string }[]) => {
      const bad = sites.filter((s) => s.ch % heads !== 0);
      if (bad.length === 0) return;
      const g = sites.map((s) => s.ch).reduce(gcd);
      c.add(
        field,
        `${field} ${heads} does not divide the channels of every attention block (${bad.map((s) => s.label).join('; ')}): use a divisor of ${g} such as ${divisors(g).join(', ')}.`,
      );
    };
    const downSites = [...attnLevels.map((i) => ({ ch: mult[i]! * C, label: where(i) })), middle];
    if (headsOk) checkHeads('model.numHeads', m.numHeads!, downSites);
    // With -1 the up path reuses numHeads on the same channel counts, already checked above.
    if (upOk && m.numHeadsUpsample !== -1 && attnLevels.length > 0) {
      const upSites = attnLevels.map((i) => ({ ch: mult[i]! * C, label: where(i) }));
      checkHeads('model.numHeadsUpsample', m.numHeadsUpsample!, upSites);
    }
  }

  if (m.dropout !== undefined && !(m.dropout >= 0 && m.dropout < 1)) {
    c.add('model.dropout', `model.dropout ${m.dropout} must be in [0, 1): use 0 for none, 0.1–0.3 is typical.`);
  }
}

function checkDiffusion(c: Checker, t: Typed): void {
  const d = t.diffusion;
  c.int('diffusion.steps', d.steps, 2, ' (T; the paper uses 1000 or 4000)', SIZE_LIMITS.diffusionSteps, 'the most diffusion steps the studio runs (the paper uses 1000 or 4000)');
  c.enumValue('diffusion.noiseSchedule', SCHEDULE_NAMES, d.noiseSchedule, 'noise schedule');
  c.enumValue('diffusion.objective', OBJECTIVES, d.objective, 'training objective');
  c.enumValue('diffusion.varianceType', VARIANCE_TYPES, d.varianceType, 'variance type');
  c.enumValue('diffusion.meanType', MEAN_TYPES, d.meanType, 'mean type');
  if (isOneOf(OBJECTIVES, d.objective) && isOneOf(VARIANCE_TYPES, d.varianceType)) {
    const learned = isLearnedVariance(d.varianceType);
    if (d.objective === 'hybrid' && !learned) {
      c.add(
        'diffusion.objective',
        `objective 'hybrid' needs a learned variance, but diffusion.varianceType is '${d.varianceType}': set diffusion.varianceType to 'learned_range' (or the objective to 'simple').`,
      );
    }
    if (d.objective === 'simple' && learned) {
      c.add(
        'diffusion.objective',
        `objective 'simple' does not train a variance, but diffusion.varianceType '${d.varianceType}' is learned (the reference would train L_hybrid): set the objective to 'hybrid', or diffusion.varianceType to 'fixed_large' or 'fixed_small'.`,
      );
    }
  }
}

function checkTraining(c: Checker, t: Typed): void {
  const tr = t.training;
  c.enumValue('training.timestepSampler', TIMESTEP_SAMPLERS, tr.timestepSampler, 'timestep sampler');
  c.enumValue('training.backend', BACKEND_PREFERENCES, tr.backend, 'backend');
  if (tr.lr !== undefined && !(tr.lr > 0)) {
    c.add('training.lr', `training.lr ${tr.lr} must be greater than 0: the paper uses 1e-4.`);
  }
  if (tr.weightDecay !== undefined && !(tr.weightDecay >= 0)) {
    c.add('training.weightDecay', `training.weightDecay ${tr.weightDecay} must be ≥ 0: use 0 for none (the reference default).`);
  }
  c.int('training.lrAnnealSteps', tr.lrAnnealSteps, 0, ' (0 keeps the learning rate constant)');
  const batchOk = c.int('training.batchSize', tr.batchSize, 1, '', SIZE_LIMITS.batchSize, 'the largest batch the studio trains (the paper uses 128)');
  if (tr.microbatch !== undefined) {
    if (!Number.isInteger(tr.microbatch)) {
      c.add('training.microbatch', `training.microbatch ${tr.microbatch} must be an integer: use -1 for no microbatching.`);
    } else if (batchOk && tr.microbatch > 0 && tr.batchSize! % tr.microbatch !== 0) {
      // The reference tolerates a short last chunk, but that weights its samples unequally; requiring a
      // divisor keeps every sample's weight 1/batchSize.
      c.add(
        'training.microbatch',
        `training.microbatch ${tr.microbatch} must divide training.batchSize ${tr.batchSize}: use a divisor (${divisors(tr.batchSize!, 8).join(', ')}) or -1 for no microbatching.`,
      );
    }
  }
  if (tr.emaRates !== undefined && c.listLength('training.emaRates', tr.emaRates, SIZE_LIMITS.emaRates, 'each rate keeps a full copy of the weights')) {
    // An empty list is allowed: no EMA copy, previews and checkpoints use the raw weights.
    for (const r of tr.emaRates) {
      if (!(r > 0 && r < 1)) {
        c.add('training.emaRates', `training.emaRates entry ${r} must be between 0 and 1 (exclusive): 0.9999 is the paper's rate.`);
      }
    }
    const dup = tr.emaRates.find((r, i) => tr.emaRates!.indexOf(r) !== i);
    if (dup !== undefined) {
      c.add('training.emaRates', `training.emaRates lists ${dup} twice: remove the duplicate (each rate names one EMA copy).`);
    }
  }
  if (tr.seed !== undefined && !(Number.isInteger(tr.seed) && tr.seed >= 0 && tr.seed <= MAX_SEED)) {
    c.add('training.seed', `training.seed ${tr.seed} must be an integer from 0 to ${MAX_SEED}.`);
  }
  if (tr.maxSteps !== undefined) c.int('training.maxSteps', tr.maxSteps, 1, ' (remove it to train until stopped)');
}

function checkIntervals(c: Checker, t: Typed): void {
  const iv = t.intervals;
  for (const key of ['checkpointEvery', 'evalEvery', 'gnsEvery', 'previewEvery'] as const) {
    c.int(`intervals.${key}`, iv[key], 0, ' (steps; 0 turns it off)');
  }
  if (c.int('intervals.previewSteps', iv.previewSteps, 1, ' (respaced sampling steps, e.g. 25)')) {
    const T = t.diffusion.steps;
    // Only against a valid T: a bad diffusion.steps is already reported on its own field.
    if (T !== undefined && Number.isInteger(T) && T >= 2 && iv.previewSteps! > T) {
      c.add(
        'intervals.previewSteps',
        `intervals.previewSteps ${iv.previewSteps} exceeds diffusion.steps ${T}: respacing can only keep steps that exist; use at most ${T}.`,
      );
    }
  }
  c.int('intervals.previewCount', iv.previewCount, 1, '', SIZE_LIMITS.previewCount, 'the most images one preview draws');
  c.int('intervals.keepCheckpoints', iv.keepCheckpoints, 0, ' (the newest checkpoints kept, besides the best; 0 keeps all)');
  // The gradient noise scale compares gradients of two batch sizes (SPEC §8), which one image cannot give.
  const B = t.training.batchSize;
  if (iv.gnsEvery !== undefined && iv.gnsEvery > 0 && B === 1) {
    c.add(
      'intervals.gnsEvery',
      `intervals.gnsEvery ${iv.gnsEvery} needs training.batchSize ≥ 2 (the noise scale compares two batch sizes): raise the batch size or set gnsEvery to 0.`,
    );
  }
}

/** Every problem of `cfg`, in form order; an empty list means the config is valid. */
export function validateRunConfig(cfg: unknown, opts: ValidateOptions = {}): ConfigProblem[] {
  const c = new Checker();
  if (!isPlainObject(cfg)) {
    c.add('', `a run config must be an object with groups ${quoteList(RUN_CONFIG_GROUPS)}, not ${describe(cfg)}.`);
    return c.problems;
  }
  const typed = typePass(c, cfg);
  checkDataset(c, typed, opts);
  checkModel(c, typed);
  checkDiffusion(c, typed);
  checkTraining(c, typed);
  checkIntervals(c, typed);
  // What the whole config costs only means something once every field is valid.
  if (c.problems.length === 0) {
    const cfgOk = cfg as unknown as RunConfig;
    const sized = parameterProblem(cfgOk) ?? trainingMemoryProblem(cfgOk, opts.memory ?? DEFAULT_MEMORY_LIMIT);
    if (sized) c.add(sized.field, sized.message);
  }
  return c.problems;
}

/** One line per problem, for errors and logs. */
export function formatConfigProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `- ${p.field || '(config)'}: ${p.message}`).join('\n');
}

/** Narrow `cfg` to RunConfig, or throw one Error listing every problem. */
export function assertValidRunConfig(cfg: unknown, opts: ValidateOptions = {}): asserts cfg is RunConfig {
  const problems = validateRunConfig(cfg, opts);
  if (problems.length > 0) {
    throw new Error(
      `invalid run config (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${formatConfigProblems(problems)}`,
    );
  }
}
