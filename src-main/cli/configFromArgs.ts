/**
 * Builds a run configuration from `--preset`, `--config FILE` and per-option flags, in that order of
 * precedence (later wins), and validates it with the shared validator.
 */
import { readFileSync } from 'node:fs';
import { getPreset } from '../../src-shared/config/presets';
import { withDefaults, type RunConfig, type RunConfigPatch } from '../../src-shared/config/runConfig';
import { formatConfigProblems, validateRunConfig } from '../../src-shared/config/validate';
import { parseValue, UsageError } from './args';
import { checkReadableFile } from './pathChecks';

/** CLI flag → config path, for the options a user most often changes. */
export const CONFIG_FLAGS: Record<string, { path: [keyof RunConfig, string]; type: 'number' | 'integer' | 'string' | 'list' | 'boolean'; description: string }> = {
  dataset: { path: ['dataset', 'kind'], type: 'string', description: 'mnist | idx | cifar10 | folder' },
  'dataset-path': { path: ['dataset', 'path'], type: 'string', description: 'file or folder of the dataset' },
  'image-size': { path: ['model', 'imageSize'], type: 'integer', description: 'image side in pixels' },
  channels: { path: ['model', 'channels'], type: 'integer', description: 'UNet base width (multiple of 32)' },
  'res-blocks': { path: ['model', 'numResBlocks'], type: 'integer', description: 'ResBlocks per level' },
  'channel-mult': { path: ['model', 'channelMult'], type: 'list', description: 'width multipliers, e.g. 1,2,2' },
  'attention-resolutions': { path: ['model', 'attentionResolutions'], type: 'list', description: 'resolutions with attention, e.g. 16,8' },
  heads: { path: ['model', 'numHeads'], type: 'integer', description: 'attention heads' },
  dropout: { path: ['model', 'dropout'], type: 'number', description: 'dropout probability' },
  'diffusion-steps': { path: ['diffusion', 'steps'], type: 'integer', description: 'T' },
  schedule: { path: ['diffusion', 'noiseSchedule'], type: 'string', description: 'linear | cosine' },
  objective: { path: ['diffusion', 'objective'], type: 'string', description: 'simple | hybrid | vlb' },
  variance: { path: ['diffusion', 'varianceType'], type: 'string', description: 'learned_range | fixed_small | fixed_large' },
  sampler: { path: ['training', 'timestepSampler'], type: 'string', description: 'uniform | loss-second-moment' },
  lr: { path: ['training', 'lr'], type: 'number', description: 'learning rate' },
  batch: { path: ['training', 'batchSize'], type: 'integer', description: 'images per step' },
  microbatch: { path: ['training', 'microbatch'], type: 'integer', description: 'gradient accumulation chunk (-1 = off)' },
  ema: { path: ['training', 'emaRates'], type: 'list', description: 'EMA rates, e.g. 0.9999' },
  seed: { path: ['training', 'seed'], type: 'integer', description: 'random seed' },
  backend: { path: ['training', 'backend'], type: 'string', description: 'auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu' },
  'checkpoint-every': { path: ['intervals', 'checkpointEvery'], type: 'integer', description: 'steps between checkpoints' },
  'eval-every': { path: ['intervals', 'evalEvery'], type: 'integer', description: 'steps between per-t VLB evaluations' },
  'preview-every': { path: ['intervals', 'previewEvery'], type: 'integer', description: 'steps between preview grids' },
  'gns-every': { path: ['intervals', 'gnsEvery'], type: 'integer', description: 'steps between gradient-noise-scale estimates' },
  'keep-checkpoints': { path: ['intervals', 'keepCheckpoints'], type: 'integer', description: 'newest checkpoints kept besides the best by NLL (0 = all; default 3)' },
};

/** The numeric lists and the kind of number each item is. */
const LIST_ITEM_TYPES: Record<string, 'integer' | 'number'> = { 'channel-mult': 'integer', 'attention-resolutions': 'integer', ema: 'number' };

export function buildConfig(options: Record<string, unknown>): RunConfig {
  let config: RunConfig = options.preset ? getPreset(String(options.preset)).config : withDefaults();
  if (options.config) {
    const file = String(options.config);
    checkReadableFile(file, '--config file', 'give a JSON file of config groups, e.g. {"training": {"lr": 0.0002}}');
    let patch: RunConfigPatch;
    try {
      patch = JSON.parse(readFileSync(file, 'utf8')) as RunConfigPatch;
    } catch (e) {
      throw new UsageError(`--config file ${file} is not valid JSON (${(e as Error).message}): fix it, e.g. {"training": {"lr": 0.0002}}`);
    }
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) {
      throw new UsageError(`--config file ${file} must hold a JSON object of config groups, e.g. {"training": {"lr": 0.0002}}`);
    }
    config = mergePatch(config, patch);
  }
  const patch: Record<string, Record<string, unknown>> = {};
  for (const [flag, def] of Object.entries(CONFIG_FLAGS)) {
    if (options[flag] === undefined) continue;
    let value = options[flag];
    const itemType = LIST_ITEM_TYPES[flag];
    if (def.type === 'list' && itemType) {
      // Each item of a numeric list is checked like a numeric flag: "1,0x2" is refused, not read as [1, 2].
      value = (value as string[]).map((item) => parseValue(flag, { type: itemType, description: def.description }, item, `each value of --${flag}`));
    }
    (patch[def.path[0]] ??= {})[def.path[1]] = value;
  }
  config = mergePatch(config, patch as RunConfigPatch);
  const problems = validateRunConfig(config, { requireDatasetPath: true });
  if (problems.length) throw new UsageError(`the run configuration has problems:\n${formatConfigProblems(problems)}`);
  return config;
}

function mergePatch(base: RunConfig, patch: RunConfigPatch): RunConfig {
  const out = JSON.parse(JSON.stringify(base)) as Record<string, Record<string, unknown>>;
  for (const [group, values] of Object.entries(patch ?? {})) {
    if (values && typeof values === 'object' && !Array.isArray(values)) out[group] = { ...(out[group] ?? {}), ...values };
    else out[group] = values as unknown as Record<string, unknown>;
  }
  return out as unknown as RunConfig;
}
