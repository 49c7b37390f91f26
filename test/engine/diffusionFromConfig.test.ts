import { describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import { withDefaults } from '../../src-shared/config/runConfig';
import { diffusionFromConfig, respacedDiffusion } from '../../src-main/engine/diffusion/fromConfig';
import { modelTime } from '../../src-shared/diffusion/noiseProcess';

describe('diffusion from a run config', () => {
  it('paper CIFAR-10 L_hybrid: cosine T=4000, learned range, vb rescaled by T/1000', () => {
    const d = diffusionFromConfig(getPreset('cifar10-hybrid').config);
    expect(d.process.numSteps).toBe(4000);
    expect(d.process.betas[3999]).toBe(0.999);
    expect(d.varianceType).toBe('learned_range');
    expect(d.lossType).toBe('rescaled_mse');
    expect(modelTime(d.process, 3999)).toBe(999.75);
  });

  it('L_vlb preset trains the rescaled KL', () => {
    const d = diffusionFromConfig(getPreset('cifar10-vlb').config);
    expect(d.lossType).toBe('rescaled_kl');
  });

  it('without rescaled timesteps the network sees the raw step', () => {
    const d = diffusionFromConfig(withDefaults({ diffusion: { rescaleTimesteps: false, steps: 4000 } }));
    expect(modelTime(d.process, 3999)).toBe(3999);
  });

  it('respacing keeps the kind and maps back to the original steps', () => {
    const d = diffusionFromConfig(getPreset('cifar10-hybrid').config);
    const fast = respacedDiffusion(d, 'ddim50');
    expect(fast.process.numSteps).toBe(50);
    expect(fast.varianceType).toBe(d.varianceType);
    expect(fast.process.timestepMap[1]).toBe(80);
    expect(modelTime(fast.process, 1)).toBe(20);
    // ᾱ at a kept step is unchanged by respacing.
    expect(fast.process.alphasCumprod[1]).toBeCloseTo(d.process.alphasCumprod[80], 14);
  });
});
