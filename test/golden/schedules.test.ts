import { describe, expect, it } from 'vitest';
import { betaSchedule, deriveProcessArrays, type ProcessArrays, type ScheduleName } from '../../src-shared/diffusion';
import { expectClose, golden } from './goldenFile';

const REL = 1e-12;

/** golden derived keys → our array names */
const DERIVED_KEYS: Record<string, keyof ProcessArrays> = {
  betas: 'betas',
  alphas_cumprod: 'alphasCumprod',
  alphas_cumprod_prev: 'alphasCumprodPrev',
  alphas_cumprod_next: 'alphasCumprodNext',
  sqrt_alphas_cumprod: 'sqrtAlphasCumprod',
  sqrt_one_minus_alphas_cumprod: 'sqrtOneMinusAlphasCumprod',
  log_one_minus_alphas_cumprod: 'logOneMinusAlphasCumprod',
  sqrt_recip_alphas_cumprod: 'sqrtRecipAlphasCumprod',
  sqrt_recipm1_alphas_cumprod: 'sqrtRecipm1AlphasCumprod',
  posterior_variance: 'posteriorVariance',
  posterior_log_variance_clipped: 'posteriorLogVarianceClipped',
  posterior_mean_coef1: 'posteriorMeanCoef1',
  posterior_mean_coef2: 'posteriorMeanCoef2',
};

function parseName(name: string): [ScheduleName, number] {
  const [schedule, steps] = name.split('_');
  return [schedule as ScheduleName, Number(steps)];
}

describe('golden: schedules', () => {
  for (const [name, g] of Object.entries<any>(golden().schedules)) {
    it(`${name} matches the reference β`, () => {
      const [schedule] = parseName(name);
      const betas = betaSchedule(schedule, g.T);
      expect(betas.length).toBe(g.T);
      expectClose(g.indices.map((i: number) => betas[i]), g.values, { atol: 0, rtol: REL, label: 'values' });
      if (g.full) expectClose(betas, g.full, { atol: 0, rtol: REL, label: 'full' });
      expectClose([betas.reduce((a, b) => a + b, 0)], [g.sum], { atol: 0, rtol: 1e-12, label: 'sum' });
      expect(Math.min(...betas)).toBeCloseTo(g.min, 15);
      expect(Math.max(...betas)).toBeCloseTo(g.max, 15);
      expect(betas.indexOf(Math.max(...betas))).toBe(g.argmax);
      expect(betas.filter((b) => b === 0.999).length).toBe(g['count_equal_0.999']);
      const arrays = deriveProcessArrays(betas);
      expectClose([arrays.alphasCumprod[g.T - 1]], [g.alphas_cumprod_last], { atol: 0, rtol: REL, label: 'ᾱ_last' });
    });
  }
});

describe('golden: derived arrays', () => {
  for (const [name, g] of Object.entries<any>(golden().derived)) {
    it(`${name} derives every array as the reference`, () => {
      const [schedule] = parseName(name);
      const arrays = deriveProcessArrays(betaSchedule(schedule, g.T));
      for (const [key, ours] of Object.entries(DERIVED_KEYS)) {
        expect(g[key], `golden has ${key}`).toBeDefined();
        const arr = arrays[ours] as Float64Array;
        expectClose(
          g.indices.map((i: number) => arr[i]),
          g[key],
          { atol: 1e-300, rtol: REL, label: `${name}.${key}` },
        );
      }
    });
  }
});
