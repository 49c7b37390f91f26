/** The Evaluate view's quality form logic: its problems name the field, the cost counts every point, the sweep chart's lines. */
import { describe, expect, it } from 'vitest';
import type { QualityResult } from '../../src-shared/protocol';
import { phaseLabel, qualityCost, qualityPlan, sweepLines, sweepsOf, type QualityForm } from '../../src-renderer/src/lib/qualityForm';

const form: QualityForm = { metrics: ['fid'], count: 64, sampler: 'ancestral', steps: 25, mode: 'single', sweepSteps: '10,25', skipFraction: 0 };

describe('quality form', () => {
  it('plans one point, or a sweep of every K and T with both samplers', () => {
    expect(qualityPlan(form, 1000)).toEqual({ points: [{ sampler: 'ancestral', steps: 25, fullChain: false }] });
    const sweep = qualityPlan({ ...form, mode: 'sweep' }, 100);
    expect('points' in sweep && sweep.points.map((p) => `${p.sampler}${p.steps}`)).toEqual(['ancestral10', 'ddim10', 'ancestral25', 'ddim25', 'ancestral100', 'ddim100']);
  });

  it('says what is wrong, naming the field', () => {
    const problem = (patch: Partial<QualityForm>, T = 100) => {
      const p = qualityPlan({ ...form, ...patch }, T);
      return 'problem' in p ? p.problem : null;
    };
    expect(problem({ metrics: [] })).toBe('Metrics: pick at least one.');
    expect(problem({ count: 3 })).toBe('Images to sample must be a whole number ≥ 4.');
    expect(problem({ count: 5000 })).toMatch(/^Images to sample must be ≤ 1,024/);
    expect(problem({ steps: 101 })).toBe("Sampling steps must be ≤ 100 (the model's T).");
    expect(problem({ steps: 90, skipFraction: 0.2 })).toBe('Sampling steps must be ≤ 80 (the steps left after skipping).');
    expect(problem({ skipFraction: 1 })).toMatch(/^Skip fraction: must be a number in \[0, 1\)/);
    expect(problem({ sampler: 'ddim', steps: 30 })).toMatch(/^DDIM cannot take exactly 30 of 100 steps/);
    expect(problem({ mode: 'sweep', sweepSteps: '10,200' })).toMatch(/^Sweep steps: 200 is more than the model's diffusion steps T = 100/);
    expect(problem({ mode: 'sweep', sweepSteps: '10,,x' })).toMatch(/^Sweep steps: '' is not a whole number/);
  });

  it('costs count × every point’s steps, and says when the classifier must be trained first', () => {
    const sweep = qualityPlan({ ...form, mode: 'sweep' }, 100);
    if (!('points' in sweep)) throw new Error('expected points');
    expect(qualityCost(sweep.points, 64, null, true)).toBe('64 images × 6 points, 270 steps in all = 17,280 network passes (no speed measured yet for this run)');
    expect(qualityCost([{ sampler: 'ddim', steps: 10, fullChain: false }], 64, null, false)).toMatch(/^64 images × 10 steps = 640 network passes .*; first the dataset's classifier is trained/);
  });

  it('draws a sweep as FID vs steps, one line per sampler, steps ascending', () => {
    const r = (id: number, sweepId: string | null, sampler: 'ancestral' | 'ddim', steps: number, fid: number, createdAt = id) =>
      ({ id, sweepId, sampler, steps, createdAt, report: { fid } }) as unknown as QualityResult;
    const results = [r(1, 'a', 'ddim', 50, 9), r(2, 'a', 'ancestral', 50, 7), r(3, 'a', 'ancestral', 10, 20), r(4, 'a', 'ddim', 10, 15), r(5, null, 'ddim', 10, 99), r(6, 'b', 'ddim', 10, 1, 100)];
    expect(sweepsOf(results)).toEqual([{ id: 'b', createdAt: 100, points: 1 }, { id: 'a', createdAt: 1, points: 4 }]);
    expect(sweepLines(results, 'a').map((l) => [l.label, l.x, l.y])).toEqual([
      ['ancestral (respaced)', [10, 50], [20, 7]],
      ['DDIM (η = 0)', [10, 50], [15, 9]],
    ]);
    expect(phaseLabel('classifier')).toBe("training the dataset's classifier");
  });
});
