import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  REFERENCE_MODEL_AND_DIFFUSION_DEFAULTS,
  attentionDownsampleFactors,
  attentionLevels,
  fromReferenceFlags,
  getPreset,
  importReferenceFlags,
  listPresets,
  toDiffusionKind,
  toReferenceFlags,
  validateRunConfig,
  withDefaults,
} from '../src-shared/config';

// The repo root is the parent of test/; the shared folder sits beside the repo (…/main, …/shared).
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const goldenPath = process.env.IDDPM_GOLDEN ?? path.resolve(repoRoot, '../shared/golden/golden.json');

interface GoldenDiffusionCase {
  flags_changed_from_defaults: Record<string, unknown>;
  model_mean_type: string;
  model_var_type: string;
  loss_type: string;
  rescale_timesteps: boolean;
}
interface GoldenFlagMapping {
  model_and_diffusion_defaults: Record<string, unknown>;
  create_gaussian_diffusion: GoldenDiffusionCase[];
}

const golden = (JSON.parse(readFileSync(goldenPath, 'utf8')) as { flag_mapping: GoldenFlagMapping }).flag_mapping;
const defaults = golden.model_and_diffusion_defaults;

describe('reference flags ↔ RunConfig (golden flag_mapping)', () => {
  it('knows the reference defaults exactly', () => {
    expect({ ...REFERENCE_MODEL_AND_DIFFUSION_DEFAULTS }).toEqual(defaults);
  });

  it('maps model_and_diffusion_defaults field by field', () => {
    const cfg = fromReferenceFlags(defaults);
    const noDefaults = golden.create_gaussian_diffusion.find(
      (c) => Object.keys(c.flags_changed_from_defaults).length === 0,
    )!;
    expect(noDefaults).toBeDefined();

    expect(cfg.model.imageSize).toBe(defaults.image_size);
    expect(cfg.model.channels).toBe(defaults.num_channels);
    expect(cfg.model.numResBlocks).toBe(defaults.num_res_blocks);
    expect(cfg.model.numHeads).toBe(defaults.num_heads);
    expect(cfg.model.numHeadsUpsample).toBe(defaults.num_heads_upsample);
    expect(cfg.model.attentionResolutions).toEqual(String(defaults.attention_resolutions).split(',').map(Number));
    expect(cfg.model.dropout).toBe(defaults.dropout);
    expect(cfg.model.useScaleShiftNorm).toBe(defaults.use_scale_shift_norm);
    expect(cfg.diffusion.steps).toBe(defaults.diffusion_steps);
    expect(cfg.diffusion.noiseSchedule).toBe(defaults.noise_schedule);
    expect(cfg.diffusion.rescaleTimesteps).toBe(defaults.rescale_timesteps);
    expect(cfg.diffusion.rescaleLearnedSigmas).toBe(defaults.rescale_learned_sigmas);
    expect(cfg.diffusion.varianceType).toBe(noDefaults.model_var_type.toLowerCase());
    expect(cfg.diffusion.meanType).toBe(noDefaults.model_mean_type.toLowerCase());
    // Neither use_kl nor learn_sigma: the paper's L_simple.
    expect(defaults.use_kl).toBe(false);
    expect(defaults.learn_sigma).toBe(false);
    expect(cfg.diffusion.objective).toBe('simple');
    // The reference's channel_mult for 64 px, and its floor-division attention factors.
    expect(defaults.image_size).toBe(64);
    expect(cfg.model.channelMult).toEqual([1, 2, 3, 4]);
    expect(attentionDownsampleFactors(cfg)).toEqual([4, 8]);
    expect(validateRunConfig(cfg)).toEqual([]);
  });

  it('round-trips the defaults back to the same flags', () => {
    const { flags, unrepresentable } = toReferenceFlags(fromReferenceFlags(defaults));
    expect(unrepresentable).toEqual([]);
    const subset = Object.fromEntries(Object.keys(defaults).map((k) => [k, flags[k as keyof typeof flags]]));
    expect(subset).toEqual(defaults);
  });

  it('has create_gaussian_diffusion cases to check', () => {
    expect(golden.create_gaussian_diffusion.length).toBeGreaterThanOrEqual(6);
  });

  for (const c of golden.create_gaussian_diffusion) {
    const label = JSON.stringify(c.flags_changed_from_defaults);
    it(`create_gaussian_diffusion ${label}`, () => {
      const cfg = fromReferenceFlags({ ...defaults, ...c.flags_changed_from_defaults });
      const kind = toDiffusionKind(cfg);
      expect(kind.meanType).toBe(c.model_mean_type.toLowerCase());
      expect(kind.varianceType).toBe(c.model_var_type.toLowerCase());
      expect(kind.lossType).toBe(c.loss_type.toLowerCase());
      expect(kind.rescaleTimesteps).toBe(c.rescale_timesteps);
      expect(validateRunConfig(cfg)).toEqual([]);
      // …and back: the changed flags survive the trip to the reference's flags.
      const back = toReferenceFlags(cfg);
      expect(back.unrepresentable).toEqual([]);
      for (const [k, v] of Object.entries(c.flags_changed_from_defaults)) {
        expect({ [k]: back.flags[k as keyof typeof back.flags] }).toEqual({ [k]: v });
      }
    });
  }
});

describe('toDiffusionKind', () => {
  it('follows the objective and the variance of the presets', () => {
    expect(toDiffusionKind(getPreset('cifar10-hybrid').config)).toEqual({
      meanType: 'epsilon',
      varianceType: 'learned_range',
      lossType: 'rescaled_mse',
      rescaleTimesteps: true,
    });
    expect(toDiffusionKind(getPreset('cifar10-vlb').config).lossType).toBe('rescaled_kl');
    expect(toDiffusionKind(getPreset('linear-baseline').config)).toMatchObject({
      varianceType: 'fixed_large',
      lossType: 'rescaled_mse',
    });
    const unscaled = withDefaults({
      diffusion: { objective: 'hybrid', varianceType: 'learned_range', rescaleLearnedSigmas: false, meanType: 'start_x' },
    });
    expect(toDiffusionKind(unscaled)).toMatchObject({ lossType: 'mse', meanType: 'start_x' });
  });

  it('gives every preset a learned variance exactly when its objective is not simple (vlb aside)', () => {
    for (const p of listPresets()) {
      const k = toDiffusionKind(p.config);
      if (p.config.diffusion.objective === 'hybrid') expect(k.varianceType).toBe('learned_range');
      if (p.config.diffusion.objective === 'simple') expect(k.varianceType).toMatch(/^fixed_/);
    }
  });
});

describe('importReferenceFlags', () => {
  it('reads argparse strings and fills missing flags with reference defaults', () => {
    const { config, ignored } = importReferenceFlags({
      image_size: '32',
      num_channels: '128',
      num_res_blocks: '3',
      learn_sigma: 'True',
      dropout: '0.3',
      diffusion_steps: '4000',
      noise_schedule: 'cosine',
      lr: '1e-4',
      batch_size: '128',
      ema_rate: '0.9999,0.99',
      schedule_sampler: 'loss-second-moment',
      use_kl: 'True',
      data_dir: '/data/cifar_train',
      microbatch: '32',
    });
    expect(ignored).toEqual([]);
    expect(config.dataset).toEqual({ kind: 'folder', path: '/data/cifar_train' });
    expect(config.model).toMatchObject({
      imageSize: 32,
      imageChannels: 3,
      channels: 128,
      numResBlocks: 3,
      channelMult: [1, 2, 2, 2],
      attentionResolutions: [16, 8],
      dropout: 0.3,
      numHeads: 4,
    });
    expect(config.diffusion).toMatchObject({
      steps: 4000,
      noiseSchedule: 'cosine',
      objective: 'vlb',
      varianceType: 'learned_range',
    });
    expect(config.training).toMatchObject({
      lr: 1e-4,
      batchSize: 128,
      microbatch: 32,
      emaRates: [0.9999, 0.99],
      timestepSampler: 'loss-second-moment',
    });
    expect(validateRunConfig(config, { requireDatasetPath: true })).toEqual([]);
    // The paper's CIFAR-10 L_vlb run, imported, equals the preset's network and diffusion.
    const preset = getPreset('cifar10-vlb').config;
    expect(config.model).toEqual(preset.model);
    expect(config.diffusion).toEqual(preset.diffusion);
  });

  it('maps sigma_small and learn_sigma as create_gaussian_diffusion does (learn_sigma wins)', () => {
    expect(fromReferenceFlags({ sigma_small: true }).diffusion.varianceType).toBe('fixed_small');
    const both = fromReferenceFlags({ sigma_small: true, learn_sigma: true }).diffusion;
    expect(both).toMatchObject({ varianceType: 'learned_range', objective: 'hybrid' });
    const kl = fromReferenceFlags({ use_kl: true }).diffusion;
    expect(kl).toMatchObject({ varianceType: 'fixed_large', objective: 'vlb' });
  });

  it('places attention where the reference would, noting floored resolutions', () => {
    const { config, ignored } = importReferenceFlags({ image_size: 32, attention_resolutions: '12,8' });
    // 32 // 12 = 2 → the reference's attention is at 16 px.
    expect(config.model.attentionResolutions).toEqual([16, 8]);
    expect(ignored.map((i) => i.flag)).toEqual(['attention_resolutions']);
    expect(ignored[0]!.reason).toContain('imported as 16');
    const none = importReferenceFlags({ image_size: 64, attention_resolutions: '20,8' });
    // 64 // 20 = 3: no level has ds 3, so the reference adds no attention for it.
    expect(none.config.model.attentionResolutions).toEqual([8]);
    expect(none.ignored[0]!.reason).toContain('no attention');
  });

  it('uses a plain timestep_respacing count for previews and notes uncarried flags', () => {
    const { config, ignored } = importReferenceFlags({
      timestep_respacing: '250',
      use_fp16: true,
      log_interval: 10, // the default: not worth a note
      clip_denoised: true, // a sampling flag, unknown to image_train.py
    });
    expect(config.intervals.previewSteps).toBe(250);
    expect(ignored.map((i) => i.flag).sort()).toEqual(['clip_denoised', 'timestep_respacing', 'use_fp16']);
  });

  it('rejects what the studio cannot represent, listing every reason at once', () => {
    expect(() => fromReferenceFlags({ image_size: 28, class_cond: true, noise_schedule: 'sqrt', lr: 'fast' })).toThrowError(
      /image_size: the reference supports 32, 64, 256, not 28[\s\S]*class_cond[\s\S]*noise_schedule[\s\S]*lr: expected a number/,
    );
    expect(() => fromReferenceFlags({ learn_sigma: 'maybe' })).toThrowError(/learn_sigma: expected a boolean/);
  });
});

describe('toReferenceFlags', () => {
  it('lists what the reference cannot express', () => {
    const { flags, unrepresentable } = toReferenceFlags(getPreset('mnist-quick').config);
    expect(flags).toMatchObject({ image_size: 32, learn_sigma: true, use_kl: false, noise_schedule: 'cosine' });
    expect(unrepresentable.join('\n')).toMatch(/channelMult \[1, 2, 2\][\s\S]*imageChannels 1[\s\S]*dataset.kind 'mnist'/);
  });

  it('round-trips a folder run of the paper', () => {
    const cfg = getPreset('imagenet64-hybrid').config;
    cfg.dataset.path = '/data/imagenet64';
    const { flags, unrepresentable } = toReferenceFlags(cfg);
    expect(unrepresentable).toEqual([]);
    expect(flags).toMatchObject({ attention_resolutions: '16,8', ema_rate: '0.9999', learn_sigma: true, use_kl: false });
    const back = fromReferenceFlags(flags);
    // Studio-only options (seed, backend, eval/GNS/preview intervals) have no flag and come back as defaults.
    expect(back.dataset).toEqual(cfg.dataset);
    expect(back.model).toEqual(cfg.model);
    expect(back.diffusion).toEqual(cfg.diffusion);
    expect({ ...back.training, seed: 0, backend: 'auto' }).toEqual({ ...cfg.training, seed: 0, backend: 'auto' });
    expect(back.intervals.checkpointEvery).toBe(cfg.intervals.checkpointEvery);
  });
});

describe('UNet geometry helpers', () => {
  it('computes downsample factors like the reference (image_size // res)', () => {
    expect(attentionDownsampleFactors({ model: { imageSize: 64, attentionResolutions: [16, 8] } })).toEqual([4, 8]);
    expect(attentionDownsampleFactors({ model: { imageSize: 32, attentionResolutions: [16, 8] } })).toEqual([2, 4]);
    expect(attentionDownsampleFactors({ model: { imageSize: 32, attentionResolutions: [12] } })).toEqual([2]);
  });

  it('finds the levels that get attention', () => {
    expect(attentionLevels(getPreset('cifar10-hybrid').config.model)).toEqual([1, 2]);
    expect(attentionLevels(getPreset('mnist-quick').config.model)).toEqual([1]);
    expect(attentionLevels(getPreset('imagenet64-hybrid').config.model)).toEqual([2, 3]);
  });
});
