/**
 * Named starting points for the New Run form and the CLI (`--preset`). Each is a complete RunConfig,
 * written as a patch over DEFAULT_RUN_CONFIG so it only states what differs, and every preset
 * validates with zero problems (a test holds us to that).
 *
 * The paper presets reproduce the runs of Nichol & Dhariwal (2021): lr 1e-4, batch 128, T = 4000,
 * cosine schedule, learned Σ; CIFAR-10 with dropout 0.3; L_vlb runs with the loss-second-moment sampler.
 */
import { type RunConfig, type RunConfigPatch, cloneRunConfig, withDefaults } from './runConfig';

export interface Preset {
  id: string;
  title: string;
  /** One line for the preset picker. */
  description: string;
  config: RunConfig;
}

/** The paper's CIFAR-10 network: 128 ch, 3 blocks, mult (1,2,2,2) (the reference's for 32 px), dropout 0.3. */
const CIFAR10_PAPER: RunConfigPatch = {
  dataset: { kind: 'cifar10' },
  model: {
    imageSize: 32,
    imageChannels: 3,
    channels: 128,
    numResBlocks: 3,
    channelMult: [1, 2, 2, 2],
    attentionResolutions: [16, 8],
    numHeads: 4,
    dropout: 0.3,
  },
  training: { lr: 1e-4, batchSize: 128, emaRates: [0.9999] },
  intervals: { checkpointEvery: 10000, evalEvery: 10000, gnsEvery: 1000, previewEvery: 5000, previewSteps: 100 },
};

/**
 * A small MNIST model that learns visible digits within minutes on a CPU: 28 px digits padded to 32,
 * three levels (32, 16, 8) so the bottom is still 8×8, attention only at 16.
 * EMA 0.995 rather than the paper's 0.9999: the EMA starts as a copy of the random initial weights, whose
 * share after k steps is r^k. Measured here: at step 1000 the raw weights drew recognisable digits while
 * the 0.999 EMA (37% initial weights) drew pure noise; 0.995 leaves 0.7% at step 1000 but still 37% at
 * step 200, so the quick presets also warm the EMA up (rate min(r, (1+k)/(10+k))): below 10⁻⁵ after 10 steps.
 * The paper presets keep the reference's constant rate.
 */
const MNIST_QUICK: RunConfigPatch = {
  dataset: { kind: 'mnist' },
  model: {
    imageSize: 32,
    imageChannels: 1,
    channels: 32,
    numResBlocks: 1,
    channelMult: [1, 2, 2],
    attentionResolutions: [16],
    numHeads: 4,
    dropout: 0,
  },
  diffusion: {
    steps: 1000,
    noiseSchedule: 'cosine',
    objective: 'hybrid',
    varianceType: 'learned_range',
  },
  training: { timestepSampler: 'uniform', lr: 2e-4, batchSize: 16, emaRates: [0.995], emaWarmup: true },
  intervals: { checkpointEvery: 500, evalEvery: 1000, gnsEvery: 100, previewEvery: 250, previewSteps: 25, previewCount: 16 },
};

export function mergeConfigPatches(...patches: RunConfigPatch[]): RunConfigPatch {
  const out: RunConfigPatch = {};
  for (const p of patches) {
    for (const g of Object.keys(p) as (keyof RunConfigPatch)[]) {
      out[g] = { ...(out[g] ?? {}), ...(p[g] ?? {}) } as never;
    }
  }
  return out;
}

const PRESET_LIST: readonly Preset[] = [
  {
    id: 'mnist-quick',
    title: 'MNIST quick look',
    description: 'Small L_hybrid model on the bundled digits (32 px, cosine T=1000): visible digits in minutes.',
    config: withDefaults(MNIST_QUICK),
  },
  {
    id: 'tiny-test',
    title: 'Tiny test',
    description: 'Smallest useful run for tests and smoke checks: 16 px digits, T=50, batch 2, stops after 10 steps.',
    // Every periodic job fires within the 10 steps so one run exercises all of them. 16 px MNIST means the
    // data layer downsizes the 28 px digits. 'auto' picks wasm on a CPU machine (the pure-JS cpu backend is
    // ~40× slower there) and a GPU where one is usable.
    config: withDefaults({
      dataset: { kind: 'mnist' },
      model: {
        imageSize: 16,
        imageChannels: 1,
        channels: 32,
        numResBlocks: 1,
        channelMult: [1, 2],
        attentionResolutions: [8],
        numHeads: 2,
        dropout: 0,
      },
      diffusion: { steps: 50, noiseSchedule: 'cosine', objective: 'hybrid', varianceType: 'learned_range' },
      training: { lr: 1e-3, batchSize: 2, emaRates: [0.9], emaWarmup: true, seed: 1, maxSteps: 10, backend: 'auto' },
      intervals: { checkpointEvery: 5, evalEvery: 5, gnsEvery: 2, previewEvery: 5, previewSteps: 5, previewCount: 4 },
    }),
  },
  {
    id: 'cifar10-hybrid',
    title: 'Paper: CIFAR-10 L_hybrid',
    description: 'Nichol & Dhariwal CIFAR-10: 128 ch, 3 blocks, dropout 0.3, cosine T=4000, learned Σ, L_hybrid.',
    config: withDefaults(
      mergeConfigPatches(CIFAR10_PAPER, {
        diffusion: { steps: 4000, noiseSchedule: 'cosine', objective: 'hybrid', varianceType: 'learned_range' },
        training: { timestepSampler: 'uniform' },
      }),
    ),
  },
  {
    id: 'cifar10-vlb',
    title: 'Paper: CIFAR-10 L_vlb',
    description: 'Same network trained on L_vlb with the loss-second-moment importance sampler (best NLL).',
    config: withDefaults(
      mergeConfigPatches(CIFAR10_PAPER, {
        diffusion: { steps: 4000, noiseSchedule: 'cosine', objective: 'vlb', varianceType: 'learned_range' },
        training: { timestepSampler: 'loss-second-moment' },
      }),
    ),
  },
  {
    id: 'imagenet64-hybrid',
    title: 'Paper: ImageNet 64×64 L_hybrid',
    description: 'Nichol & Dhariwal ImageNet-64: 128 ch, 3 blocks, mult 1,2,3,4, cosine T=4000, L_hybrid; needs a folder of images.',
    // The studio has no ImageNet reader; a folder of 64×64 images (e.g. a downsampled ImageNet export) is the
    // input, so the path is left for the user (validate with requireDatasetPath before starting).
    config: withDefaults({
      dataset: { kind: 'folder' },
      model: {
        imageSize: 64,
        imageChannels: 3,
        channels: 128,
        numResBlocks: 3,
        channelMult: [1, 2, 3, 4],
        attentionResolutions: [16, 8],
        numHeads: 4,
        dropout: 0,
      },
      diffusion: { steps: 4000, noiseSchedule: 'cosine', objective: 'hybrid', varianceType: 'learned_range' },
      training: { timestepSampler: 'uniform', lr: 1e-4, batchSize: 128, emaRates: [0.9999] },
      intervals: { checkpointEvery: 10000, evalEvery: 10000, gnsEvery: 1000, previewEvery: 5000, previewSteps: 100 },
    }),
  },
  {
    id: 'linear-baseline',
    title: 'Baseline: DDPM L_simple, linear',
    description: 'The MNIST quick-look network trained as Ho et al.: L_simple, linear schedule, fixed variance.',
    // Same data, network, batch and intervals as mnist-quick, so the two runs compare on one chart and
    // differences come from the objective, the schedule and the variance alone.
    config: withDefaults(
      mergeConfigPatches(MNIST_QUICK, {
        diffusion: { steps: 1000, noiseSchedule: 'linear', objective: 'simple', varianceType: 'fixed_large' },
      }),
    ),
  },
];

/** Every preset id, in picker order. */
export const PRESET_IDS: readonly string[] = PRESET_LIST.map((p) => p.id);

/** All presets (copies: callers may edit them freely). */
export function listPresets(): Preset[] {
  return PRESET_LIST.map((p) => ({ ...p, config: cloneRunConfig(p.config) }));
}

/** The preset `id` (a copy), or an Error that lists the valid ids. */
export function getPreset(id: string): Preset {
  const p = PRESET_LIST.find((x) => x.id === id);
  if (!p) {
    throw new Error(`unknown preset '${id}': valid presets are ${PRESET_IDS.map((x) => `'${x}'`).join(', ')}`);
  }
  return { ...p, config: cloneRunConfig(p.config) };
}
