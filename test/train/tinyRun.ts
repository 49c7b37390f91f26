/** A tiny run configuration and synthetic images, small enough to train in seconds on the cpu backend. */
import { withDefaults, type RunConfig, type RunConfigPatch } from '../../src-shared/config/runConfig';
import type { TrainingData } from '../../src-shared/trainingData';

export function tinyConfig(patch: RunConfigPatch = {}): RunConfig {
  const base: RunConfigPatch = {
    dataset: { kind: 'mnist' },
    model: {
      imageSize: 8,
      imageChannels: 1,
      channels: 32,
      numResBlocks: 1,
      channelMult: [1, 2],
      attentionResolutions: [4],
      numHeads: 2,
      dropout: 0,
    },
    diffusion: { steps: 20, noiseSchedule: 'cosine', objective: 'hybrid', varianceType: 'learned_range' },
    training: { batchSize: 4, microbatch: -1, lr: 1e-3, emaRates: [0.9], seed: 3, backend: 'cpu' },
    intervals: { checkpointEvery: 0, evalEvery: 0, gnsEvery: 0, previewEvery: 0, previewSteps: 5, previewCount: 2 },
  };
  const merged: RunConfigPatch = {};
  for (const g of ['dataset', 'model', 'diffusion', 'training', 'intervals'] as const) {
    (merged as Record<string, unknown>)[g] = { ...(base[g] ?? {}), ...(patch[g] ?? {}) };
  }
  return withDefaults(merged);
}

/** Images of bright squares at varying places on a dark background, NHWC in [−1, 1]. */
export function squaresData(size: number, channels: number, count = 24, heldOut = 4, poison = false): TrainingData {
  const image = (i: number) => {
    const out = new Float32Array(size * size * channels).fill(-1);
    const x0 = i % (size - 2);
    const y0 = Math.floor(i / 3) % (size - 2);
    for (let y = y0; y < y0 + 3; y++) for (let x = x0; x < x0 + 3; x++) for (let c = 0; c < channels; c++) out[(y * size + x) * channels + c] = 1;
    if (poison) out[0] = Number.NaN;
    return out;
  };
  const batch = (offset: number) => (indices: readonly number[]) => {
    const out = new Float32Array(indices.length * size * size * channels);
    indices.forEach((idx, k) => out.set(image(offset + idx), k * size * size * channels));
    return out;
  };
  return { size, channels, trainCount: count, heldOutCount: heldOut, trainBatch: batch(0), heldOutBatch: batch(count) };
}
