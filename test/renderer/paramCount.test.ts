import { describe, expect, it } from 'vitest';
import { estimateTrainingMemory, unetParamCount } from '../../src-shared/config/paramCount';
import { listPresets, withDefaults } from '../../src-shared/config';
import { buildLayout } from '../../src-main/engine/unet/layout';
import { unetSpecFromConfig } from '../../src-main/engine/unet/spec';

describe('unetParamCount', () => {
  it('counts the reference layout: 32 px, C=32, mult 1,2,2, 1 block, attention 16, learned sigma, RGB', () => {
    const cfg = withDefaults({
      model: { imageSize: 32, imageChannels: 3, channels: 32, numResBlocks: 1, channelMult: [1, 2, 2], attentionResolutions: [16] },
      diffusion: { varianceType: 'learned_range', objective: 'hybrid' },
    });
    expect(unetParamCount(cfg)).toBe(1_193_254);
  });

  it('agrees with the engine layout on every preset', () => {
    for (const p of listPresets()) {
      expect(unetParamCount(p.config), p.id).toBe(buildLayout(unetSpecFromConfig(p.config)).paramCount);
    }
  });

  it('gives a positive memory estimate that grows with the batch', () => {
    const cfg = listPresets()[0].config;
    const a = estimateTrainingMemory(cfg);
    const b = estimateTrainingMemory({ ...cfg, training: { ...cfg.training, batchSize: cfg.training.batchSize * 2 } });
    expect(a.totalBytes).toBeGreaterThan(a.weightBytes);
    expect(b.activationBytes).toBeCloseTo(2 * a.activationBytes);
  });
});
