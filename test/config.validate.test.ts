import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RUN_CONFIG,
  PRESET_IDS,
  assertValidRunConfig,
  getPreset,
  listPresets,
  validateRunConfig,
  withDefaults,
  type RunConfig,
  type RunConfigPatch,
} from '../src-shared/config';

/** A config built from the defaults with an arbitrary (possibly ill-typed) patch. */
function cfgWith(patch: Record<string, Record<string, unknown>>): RunConfig {
  return withDefaults(patch as RunConfigPatch);
}

interface BadCase {
  name: string;
  config: unknown;
  field: string;
  /** Text the message must contain: the field's name and the fix. */
  says: (string | RegExp)[];
  opts?: { requireDatasetPath?: boolean };
}

const BAD: BadCase[] = [
  {
    name: 'width not a multiple of the 32 GroupNorm groups',
    config: cfgWith({ model: { channels: 48 } }),
    field: 'model.channels',
    says: ['model.channels 48', 'multiple of 32', 'GroupNorm', 'use 32 or 64'],
  },
  {
    name: 'image size not divisible by 2^(levels-1)',
    config: cfgWith({ model: { imageSize: 28, channelMult: [1, 2, 2, 2], attentionResolutions: [14] } }),
    field: 'model.imageSize',
    says: ['model.imageSize 28', 'divisible by 8', 'such as 32', 'fewer levels'],
  },
  {
    name: 'attention resolution not reached',
    config: cfgWith({ model: { imageSize: 32, channelMult: [1, 2, 2, 2], attentionResolutions: [16, 12] } }),
    field: 'model.attentionResolutions',
    says: ['attention resolution 12', 'image size 32', 'reachable: 32, 16, 8, 4', 'model.attentionResolutions'],
  },
  {
    // 64 px, mult (1,2,3,4), C=128: attention at 16 px has 384 channels, at 8 px and in the middle 512.
    name: 'heads do not divide the channels at an attention level',
    config: cfgWith({ model: { numHeads: 5 } }),
    field: 'model.numHeads',
    says: ['model.numHeads 5', '384 at 16 px', '512 in the middle block', 'divisor of 128'],
  },
  {
    name: 'upsample heads do not divide the channels at an attention level',
    config: cfgWith({ model: { numHeadsUpsample: 5 } }),
    field: 'model.numHeadsUpsample',
    says: ['model.numHeadsUpsample 5', 'divisor of 128'],
  },
  {
    name: 'dropout of 1',
    config: cfgWith({ model: { dropout: 1 } }),
    field: 'model.dropout',
    says: ['model.dropout 1', '[0, 1)'],
  },
  {
    name: 'a single diffusion step',
    config: cfgWith({ diffusion: { steps: 1 } }),
    field: 'diffusion.steps',
    says: ['diffusion.steps 1', 'integer ≥ 2'],
  },
  {
    name: 'unknown schedule',
    config: cfgWith({ diffusion: { noiseSchedule: 'sqrt' } }),
    field: 'diffusion.noiseSchedule',
    says: ["diffusion.noiseSchedule 'sqrt'", "choose one of 'linear', 'cosine'"],
  },
  {
    name: 'hybrid objective with a fixed variance',
    config: cfgWith({ diffusion: { objective: 'hybrid', varianceType: 'fixed_large' } }),
    field: 'diffusion.objective',
    says: ["objective 'hybrid' needs a learned variance", "set diffusion.varianceType to 'learned_range'"],
  },
  {
    name: 'simple objective with a learned variance',
    config: cfgWith({ diffusion: { objective: 'simple', varianceType: 'learned_range' } }),
    field: 'diffusion.objective',
    says: ["objective 'simple'", "set the objective to 'hybrid'", "'fixed_large'"],
  },
  {
    name: 'unknown variance type',
    config: cfgWith({ diffusion: { varianceType: 'learned_sigma' } }),
    field: 'diffusion.varianceType',
    says: ["diffusion.varianceType 'learned_sigma'", "'learned_range'", "'fixed_small'"],
  },
  {
    name: 'learning rate of 0',
    config: cfgWith({ training: { lr: 0 } }),
    field: 'training.lr',
    says: ['training.lr 0', 'greater than 0'],
  },
  {
    name: 'learning rate as a string',
    config: cfgWith({ training: { lr: '1e-4' } }),
    field: 'training.lr',
    says: ['training.lr must be a number', 'string "1e-4"', 'without quotes'],
  },
  {
    name: 'boolean as a string',
    config: cfgWith({ diffusion: { rescaleTimesteps: 'true' } }),
    field: 'diffusion.rescaleTimesteps',
    says: ['diffusion.rescaleTimesteps must be true or false'],
  },
  {
    name: 'batch of zero',
    config: cfgWith({ training: { batchSize: 0 } }),
    field: 'training.batchSize',
    says: ['training.batchSize 0', 'positive integer'],
  },
  {
    name: 'microbatch that does not divide the batch',
    config: cfgWith({ training: { batchSize: 8, microbatch: 3 } }),
    field: 'training.microbatch',
    says: ['training.microbatch 3', 'must divide training.batchSize 8', '1, 2, 4, 8', '-1'],
  },
  {
    name: 'EMA rate of 1',
    config: cfgWith({ training: { emaRates: [0.9999, 1] } }),
    field: 'training.emaRates',
    says: ['training.emaRates entry 1', 'between 0 and 1'],
  },
  {
    name: 'duplicate EMA rate',
    config: cfgWith({ training: { emaRates: [0.999, 0.999] } }),
    field: 'training.emaRates',
    says: ['lists 0.999 twice', 'remove the duplicate'],
  },
  {
    name: 'fractional seed',
    config: cfgWith({ training: { seed: 1.5 } }),
    field: 'training.seed',
    says: ['training.seed 1.5', 'integer from 0 to 4294967295'],
  },
  {
    name: 'unknown backend',
    config: cfgWith({ training: { backend: 'gpu' } }),
    field: 'training.backend',
    says: ["training.backend 'gpu'", "'tensorflow-gpu'", "'webgpu'"],
  },
  {
    name: 'unknown timestep sampler',
    config: cfgWith({ training: { timestepSampler: 'importance' } }),
    field: 'training.timestepSampler',
    says: ["'importance'", "'loss-second-moment'"],
  },
  {
    name: 'zero max steps',
    config: cfgWith({ training: { maxSteps: 0 } }),
    field: 'training.maxSteps',
    says: ['training.maxSteps 0', 'remove it to train until stopped'],
  },
  {
    name: 'negative interval',
    config: cfgWith({ intervals: { checkpointEvery: -1 } }),
    field: 'intervals.checkpointEvery',
    says: ['intervals.checkpointEvery -1', '0 turns it off'],
  },
  {
    name: 'more preview steps than diffusion steps',
    config: cfgWith({ intervals: { previewSteps: 2000 } }),
    field: 'intervals.previewSteps',
    says: ['intervals.previewSteps 2000', 'diffusion.steps 1000', 'use at most 1000'],
  },
  {
    name: 'gradient noise scale with a batch of one',
    config: cfgWith({ training: { batchSize: 1 }, intervals: { gnsEvery: 100 } }),
    field: 'intervals.gnsEvery',
    says: ['training.batchSize ≥ 2', 'set gnsEvery to 0'],
  },
  {
    name: 'RGB channels for grayscale MNIST',
    config: cfgWith({ dataset: { kind: 'mnist' } }),
    field: 'model.imageChannels',
    says: ["dataset 'mnist'", 'set it to 1'],
  },
  {
    name: 'unknown dataset kind',
    config: cfgWith({ dataset: { kind: 'imagenet' } }),
    field: 'dataset.kind',
    says: ["dataset.kind 'imagenet'", "'folder'"],
  },
  {
    name: 'empty channel multipliers',
    config: cfgWith({ model: { channelMult: [] } }),
    field: 'model.channelMult',
    says: ['model.channelMult is empty', 'one multiplier per resolution level'],
  },
  {
    name: 'unknown option in a group',
    config: cfgWith({ model: { foo: 1 } }),
    field: 'model.foo',
    says: ["unknown option 'foo'", 'remove it'],
  },
  {
    name: 'unknown top-level option',
    config: { ...withDefaults(), foo: true },
    field: 'foo',
    says: ["unknown option 'foo'", 'remove it'],
  },
  {
    name: 'missing field',
    config: (() => {
      const c = withDefaults() as unknown as { model: Record<string, unknown> };
      delete c.model.numResBlocks;
      return c;
    })(),
    field: 'model.numResBlocks',
    says: ['model.numResBlocks is missing', 'withDefaults'],
  },
  {
    name: 'folder dataset without a path when starting a run',
    config: withDefaults(),
    opts: { requireDatasetPath: true },
    field: 'dataset.path',
    says: ["required for kind 'folder'", 'choose the folder'],
  },
];

describe('validateRunConfig', () => {
  it('accepts the defaults', () => {
    expect(validateRunConfig(DEFAULT_RUN_CONFIG)).toEqual([]);
    expect(validateRunConfig(withDefaults())).toEqual([]);
  });

  it("accepts training.backend 'webgpu'", () => {
    expect(validateRunConfig(withDefaults({ training: { backend: 'webgpu' } }))).toEqual([]);
  });

  it('accepts every preset', () => {
    expect(PRESET_IDS.length).toBeGreaterThanOrEqual(6);
    for (const p of listPresets()) {
      expect({ id: p.id, problems: validateRunConfig(p.config) }).toEqual({ id: p.id, problems: [] });
    }
  });

  it('has distinct bad cases', () => {
    expect(BAD.length).toBeGreaterThanOrEqual(12);
    expect(new Set(BAD.map((c) => c.name)).size).toBe(BAD.length);
  });

  for (const bad of BAD) {
    it(`reports ${bad.name} on ${bad.field} only`, () => {
      const problems = validateRunConfig(bad.config, bad.opts);
      // Exactly one problem, on exactly that field: no cascades from one mistake.
      expect(problems.map((p) => p.field)).toEqual([bad.field]);
      for (const s of bad.says) {
        if (typeof s === 'string') expect(problems[0]!.message).toContain(s);
        else expect(problems[0]!.message).toMatch(s);
      }
    });
  }

  it('reports every problem, not just the first', () => {
    const problems = validateRunConfig(
      cfgWith({
        model: { channels: 48, dropout: -0.1 },
        diffusion: { steps: 1.5, objective: 'hybrid', varianceType: 'fixed_small' },
        training: { lr: -1, emaRates: [2] },
        intervals: { previewEvery: 2.5 },
      }),
    );
    expect(problems.map((p) => p.field).sort()).toEqual(
      [
        'diffusion.objective',
        'diffusion.steps',
        'intervals.previewEvery',
        'model.channels',
        'model.dropout',
        'training.emaRates',
        'training.lr',
      ].sort(),
    );
  });

  it('reports a type error once and skips the checks that depend on the field', () => {
    const problems = validateRunConfig(cfgWith({ model: { channels: '128', channelMult: '1,2,3,4' } }));
    expect(problems.map((p) => p.field)).toEqual(['model.channels', 'model.channelMult']);
    expect(problems[1]!.message).toContain('list of numbers such as [16, 8]');
  });

  it('rejects what is not an object, and missing or mistyped groups', () => {
    expect(validateRunConfig(null).map((p) => p.field)).toEqual(['']);
    expect(validateRunConfig([]).map((p) => p.field)).toEqual(['']);
    const noModel = { ...withDefaults(), model: undefined };
    expect(validateRunConfig(noModel).map((p) => p.field)).toEqual(['model']);
    const badGroup = { ...withDefaults(), training: 5 };
    const problems = validateRunConfig(badGroup);
    expect(problems.map((p) => p.field)).toEqual(['training']);
    expect(problems[0]!.message).toContain('must be an object');
  });

  it('allows the combinations the reference allows', () => {
    // L_vlb with a fixed variance, importance sampling with L_simple, microbatch 0 or -1, no EMA.
    expect(validateRunConfig(cfgWith({ diffusion: { objective: 'vlb', varianceType: 'fixed_small' } }))).toEqual([]);
    expect(validateRunConfig(cfgWith({ training: { timestepSampler: 'loss-second-moment' } }))).toEqual([]);
    expect(validateRunConfig(cfgWith({ training: { batchSize: 8, microbatch: 0 } }))).toEqual([]);
    expect(validateRunConfig(cfgWith({ training: { batchSize: 8, microbatch: 4 } }))).toEqual([]);
    expect(validateRunConfig(cfgWith({ training: { emaRates: [] } }))).toEqual([]);
    expect(validateRunConfig(cfgWith({ model: { attentionResolutions: [] } }))).toEqual([]);
    expect(
      validateRunConfig(cfgWith({ dataset: { kind: 'folder', path: '/data/imgs' } }), { requireDatasetPath: true }),
    ).toEqual([]);
  });

  it('still checks the heads of the always-present middle attention block', () => {
    // No attention resolutions, but the middle block (mult 4 · 32 = 128 channels) has attention.
    const problems = validateRunConfig(
      cfgWith({ model: { channels: 32, attentionResolutions: [], numHeads: 3 } }),
    );
    expect(problems.map((p) => p.field)).toEqual(['model.numHeads']);
    expect(problems[0]!.message).toContain('128 in the middle block');
  });
});

describe('assertValidRunConfig', () => {
  it('passes valid configs through', () => {
    expect(() => assertValidRunConfig(getPreset('tiny-test').config)).not.toThrow();
  });

  it('throws one Error that lists every problem', () => {
    const bad = cfgWith({ model: { channels: 48 }, training: { lr: 0 } });
    expect(() => assertValidRunConfig(bad)).toThrowError(/2 problems[\s\S]*model\.channels[\s\S]*training\.lr/);
  });
});

describe('withDefaults', () => {
  it('deep-merges a partial over the defaults without sharing objects', () => {
    const cfg = withDefaults({ model: { channels: 64 }, training: { emaRates: [0.99] } });
    expect(cfg.model.channels).toBe(64);
    expect(cfg.model.numResBlocks).toBe(DEFAULT_RUN_CONFIG.model.numResBlocks);
    expect(cfg.training.emaRates).toEqual([0.99]);
    expect(cfg.diffusion).toEqual(DEFAULT_RUN_CONFIG.diffusion);
    cfg.model.channelMult.push(8);
    expect(DEFAULT_RUN_CONFIG.model.channelMult).toEqual([1, 2, 3, 4]);
  });

  it('treats undefined as "not given" and keeps unknown keys for the validator', () => {
    const cfg = withDefaults({ model: { channels: undefined, bogus: 1 } as never });
    expect(cfg.model.channels).toBe(128);
    expect(validateRunConfig(cfg).map((p) => p.field)).toEqual(['model.bogus']);
  });

  it('has frozen defaults', () => {
    expect(Object.isFrozen(DEFAULT_RUN_CONFIG.model)).toBe(true);
    expect(Object.isFrozen(DEFAULT_RUN_CONFIG.training.emaRates)).toBe(true);
  });

  it('uses the reference defaults', () => {
    const d = DEFAULT_RUN_CONFIG;
    expect(d.model).toMatchObject({
      imageSize: 64,
      channels: 128,
      numResBlocks: 2,
      channelMult: [1, 2, 3, 4],
      attentionResolutions: [16, 8],
      numHeads: 4,
      numHeadsUpsample: -1,
      dropout: 0,
      useScaleShiftNorm: true,
    });
    expect(d.diffusion).toEqual({
      steps: 1000,
      noiseSchedule: 'linear',
      objective: 'simple',
      varianceType: 'fixed_large',
      meanType: 'epsilon',
      rescaleTimesteps: true,
      rescaleLearnedSigmas: true,
    });
    expect(d.training).toMatchObject({ lr: 1e-4, weightDecay: 0, lrAnnealSteps: 0, microbatch: -1, emaRates: [0.9999] });
  });
});

describe('presets', () => {
  it('getPreset returns an editable copy', () => {
    const a = getPreset('mnist-quick');
    a.config.model.channels = 999;
    expect(getPreset('mnist-quick').config.model.channels).toBe(32);
  });

  it('getPreset names the valid ids for an unknown one', () => {
    expect(() => getPreset('nope')).toThrowError(/unknown preset 'nope'.*'mnist-quick'.*'tiny-test'.*'linear-baseline'/);
  });

  it('has the promised presets with titles and one-line descriptions', () => {
    expect([...PRESET_IDS].sort()).toEqual(
      ['cifar10-hybrid', 'cifar10-vlb', 'imagenet64-hybrid', 'linear-baseline', 'mnist-quick', 'tiny-test'].sort(),
    );
    for (const p of listPresets()) {
      expect(p.title.length).toBeGreaterThan(0);
      expect(p.description).not.toContain('\n');
    }
  });

  it('paper presets follow the paper', () => {
    const h = getPreset('cifar10-hybrid').config;
    expect(h.model).toMatchObject({ imageSize: 32, channels: 128, numResBlocks: 3, channelMult: [1, 2, 2, 2], dropout: 0.3 });
    expect(h.diffusion).toMatchObject({ steps: 4000, noiseSchedule: 'cosine', objective: 'hybrid', varianceType: 'learned_range' });
    expect(h.training).toMatchObject({ lr: 1e-4, batchSize: 128, timestepSampler: 'uniform' });
    const v = getPreset('cifar10-vlb').config;
    expect(v.diffusion.objective).toBe('vlb');
    expect(v.training.timestepSampler).toBe('loss-second-moment');
    expect(v.model).toEqual(h.model);
    const i = getPreset('imagenet64-hybrid').config;
    expect(i.model).toMatchObject({ imageSize: 64, channels: 128, numResBlocks: 3, channelMult: [1, 2, 3, 4], dropout: 0 });
    expect(i.diffusion).toMatchObject({ steps: 4000, noiseSchedule: 'cosine', objective: 'hybrid' });
    // It has no built-in dataset: starting it needs a folder.
    expect(validateRunConfig(i, { requireDatasetPath: true }).map((p) => p.field)).toEqual(['dataset.path']);
  });

  it('linear-baseline differs from mnist-quick only in objective, schedule and variance', () => {
    const q = getPreset('mnist-quick').config;
    const b = getPreset('linear-baseline').config;
    expect(b.diffusion).toMatchObject({ noiseSchedule: 'linear', objective: 'simple', varianceType: 'fixed_large' });
    expect({ ...b, diffusion: null }).toEqual({ ...q, diffusion: null });
  });

  it('tiny-test is tiny', () => {
    const t = getPreset('tiny-test').config;
    expect(t.model.imageSize).toBeLessThanOrEqual(16);
    expect(t.diffusion.steps).toBeLessThanOrEqual(50);
    expect(t.training.batchSize).toBe(2);
    expect(t.training.maxSteps).toBeGreaterThan(0);
    for (const v of Object.values(t.intervals)) expect(v).toBeLessThanOrEqual(10);
  });
});

describe('sizes are bounded by what can run (issue 13, item 3)', () => {
  const ABSURD: BadCase[] = [
    { name: 'a billion diffusion steps', config: cfgWith({ diffusion: { steps: 1e9 } }), field: 'diffusion.steps', says: ['diffusion.steps 1000000000', 'at most 100000'] },
    { name: 'a batch of 100000', config: cfgWith({ training: { batchSize: 100000 } }), field: 'training.batchSize', says: ['training.batchSize 100000', 'at most 4096'] },
    { name: '320000 channels', config: cfgWith({ model: { channels: 320000 } }), field: 'model.channels', says: ['model.channels 320000', 'at most 1024'] },
    { name: 'a 100000 px image', config: cfgWith({ model: { imageSize: 100000, attentionResolutions: [] } }), field: 'model.imageSize', says: ['model.imageSize 100000', 'at most 1024'] },
    { name: 'a channel multiplier of 1000', config: cfgWith({ model: { channelMult: [1, 1000] } }), field: 'model.channelMult', says: ['entry 1000', 'more than 16'] },
    { name: 'a thousand levels', config: cfgWith({ model: { channelMult: new Array(1000).fill(1) } }), field: 'model.channelMult', says: ['1000 entries', 'more than 11'] },
    { name: '1000 res blocks', config: cfgWith({ model: { numResBlocks: 1000 } }), field: 'model.numResBlocks', says: ['model.numResBlocks 1000', 'at most 16'] },
    { name: '4096 heads', config: cfgWith({ model: { numHeads: 4096 } }), field: 'model.numHeads', says: ['model.numHeads 4096', 'at most 64'] },
    { name: '4096 upsample heads', config: cfgWith({ model: { numHeadsUpsample: 4096 } }), field: 'model.numHeadsUpsample', says: ['model.numHeadsUpsample 4096', 'more than 64'] },
    {
      name: 'fifty EMA copies',
      config: cfgWith({ training: { emaRates: Array.from({ length: 50 }, (_, i) => 0.5 + i / 200) } }),
      field: 'training.emaRates',
      says: ['50 entries', 'full copy of the weights'],
    },
    { name: 'a million preview images', config: cfgWith({ intervals: { previewCount: 1e6 } }), field: 'intervals.previewCount', says: ['intervals.previewCount 1000000', 'at most 256'] },
    {
      // Every field within its bound, but 1024·16 channels at the last level: billions of parameters.
      name: 'a model too large for one weight array',
      config: cfgWith({ model: { channels: 1024, channelMult: [1, 2, 4, 8, 16], numResBlocks: 4, attentionResolutions: [] } }),
      field: 'model.channels',
      says: ['parameters', 'lower model.channels, model.channelMult or model.numResBlocks'],
    },
    {
      // Each field is fine; together the activations of 4096 images of 1024² px cannot fit anywhere.
      name: 'a batch whose activations exceed any machine',
      config: cfgWith({ model: { imageSize: 1024, channels: 64, channelMult: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], attentionResolutions: [] }, training: { batchSize: 4096 } }),
      field: 'training.batchSize',
      says: ['training.batchSize 4096 needs about', 'TiB', 'set training.microbatch to', 'or lower training.batchSize'],
    },
  ];

  for (const c of ABSURD) {
    it(`refuses ${c.name}, naming ${c.field}`, () => {
      const problems = validateRunConfig(c.config);
      expect(problems.map((p) => p.field)).toEqual([c.field]);
      for (const s of c.says) expect(problems[0]!.message).toMatch(typeof s === 'string' ? new RegExp(escapeRegExp(s)) : s);
    });
  }

  it('accepts every preset under the default ceiling', () => {
    for (const p of listPresets()) expect(validateRunConfig(p.config), p.id).toEqual([]);
  });

  it("checks the estimate against the memory it is given and suggests a microbatch that fits", () => {
    const imagenet = getPreset('imagenet64-hybrid').config; // ~28 GiB by the estimate at batch 128
    const memory = { bytes: 24 * 2 ** 30, what: "this machine's 24 GiB of memory" };
    const problems = validateRunConfig(imagenet, { memory });
    expect(problems.map((p) => p.field)).toEqual(['training.batchSize']);
    const msg = problems[0]!.message;
    expect(msg).toContain("more than this machine's 24 GiB of memory");
    expect(msg).toContain('activations of 128 images at once');
    const suggested = Number(/set training\.microbatch to (\d+)/.exec(msg)![1]);
    expect(128 % suggested).toBe(0);
    // The suggestion is a fix: the same batch in chunks of that size passes with the same memory.
    const fixed = { ...imagenet, training: { ...imagenet.training, microbatch: suggested } };
    expect(validateRunConfig(fixed, { memory })).toEqual([]);
    // With a microbatch that is still too large, the message names the microbatch.
    const tooBig = { ...imagenet, training: { ...imagenet.training, microbatch: 64 } };
    expect(validateRunConfig(tooBig, { memory: { bytes: 8 * 2 ** 30, what: "8 GiB" } }).map((p) => p.field)).toEqual(['training.microbatch']);
  });

  it('says to shrink the model when even one image at a time does not fit', () => {
    const cfg = getPreset('imagenet64-hybrid').config;
    const problems = validateRunConfig(cfg, { memory: { bytes: 2 ** 30, what: 'the 1 GiB given' } });
    expect(problems.map((p) => p.field)).toEqual(['model.channels']);
    expect(problems[0]!.message).toMatch(/even one image at a time: lower model\.channels/);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
