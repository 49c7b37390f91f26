import { describe, expect, it } from 'vitest';
import {
  createNoiseProcess,
  modelTime,
  respace,
  roundHalfToEven,
  spaceTimesteps,
  type ScheduleName,
} from '../../src-shared/diffusion';
import { expectClose, golden } from './goldenFile';

describe('golden: space_timesteps', () => {
  for (const c of golden().respacing.space_timesteps as any[]) {
    it(`T=${c.num_timesteps} spec ${JSON.stringify(c.section_counts)} keeps exactly the reference steps`, () => {
      expect(spaceTimesteps(c.num_timesteps, c.section_counts)).toEqual([...c.steps].sort((a, b) => a - b));
    });
  }

  for (const c of golden().respacing.naive_k_times_stride_round_half_up_differs as any[]) {
    it(`T=${c.num_timesteps} spec ${JSON.stringify(c.section_counts)} keeps the half-to-even steps, not the naive ones`, () => {
      const steps = spaceTimesteps(c.num_timesteps, c.section_counts);
      for (const s of c.ref_minus_naive) expect(steps).toContain(s);
      for (const s of c.naive_minus_ref) expect(steps).not.toContain(s);
    });
  }
});

describe('golden: respaced diffusions', () => {
  for (const [name, g] of Object.entries<any>(golden().respacing.respaced_diffusions)) {
    it(`${name}: timestep map, β', ᾱ', log β̃' and model times`, () => {
      const [schedule, steps, spec] = name.split('_');
      expect(Number(steps)).toBe(g.original_num_steps);
      const p = respace(createNoiseProcess(schedule as ScheduleName, g.original_num_steps), spec);
      expect(p.numSteps).toBe(g.num_timesteps);
      expect(p.originalNumSteps).toBe(g.original_num_steps);
      expect(p.timestepMap).toEqual(g.timestep_map);
      expectClose(p.betas, g.betas, { atol: 0, rtol: 1e-12, label: 'betas' });
      expectClose(p.alphasCumprod, g.alphas_cumprod, { atol: 0, rtol: 1e-12, label: 'alphas_cumprod' });
      expectClose(p.posteriorLogVarianceClipped, g.posterior_log_variance_clipped, {
        atol: 0,
        rtol: 1e-12,
        label: 'posterior_log_variance_clipped',
      });
      const times = Array.from({ length: p.numSteps }, (_, t) => modelTime(p, t));
      expect(times).toEqual(g['model_timesteps_for_t_0_to_K-1']);
    });
  }
});

describe('space_timesteps edge cases', () => {
  it('rounds half to even like python', () => {
    expect([0.5, 1.5, 2.5, -0.5, 2.4999, 2.5001].map(roundHalfToEven)).toEqual([0, 2, 2, 0, 2, 3]);
  });
  it('rejects a section asked for more steps than it has', () => {
    expect(() => spaceTimesteps(10, '4,4,4')).toThrow(/cannot take 4 steps from a section of 3/);
  });
  it('rejects a ddim count no integer stride reaches', () => {
    expect(() => spaceTimesteps(1000, 'ddim999')).toThrow(/exactly 999 steps/);
  });
  it('rejects a spec that is not a count', () => {
    expect(() => spaceTimesteps(1000, '10,x')).toThrow(/'x' is not a step count/);
  });
});
