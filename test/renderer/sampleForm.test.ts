/** The Sample view's form checks (sampleForm.ts): the skip fraction and the steps it leaves, then the other fields. */
import { describe, expect, it } from 'vitest';
import { sampleFormProblem, type SampleForm } from '../../src-renderer/src/lib/sampleForm';

const ok: SampleForm = { sampler: 'ancestral', steps: 50, eta: 0, count: 16, seed: 0, skipFraction: 0 };

describe('sampleFormProblem', () => {
  it('accepts the whole chain and a skip that leaves enough steps', () => {
    expect(sampleFormProblem(ok, 1000)).toBeNull();
    expect(sampleFormProblem({ ...ok, skipFraction: 0.4 }, 1000)).toBeNull();
    // 600 steps left; DDIM 50 takes every 12th.
    expect(sampleFormProblem({ ...ok, sampler: 'ddim', skipFraction: 0.4 }, 1000)).toBeNull();
  });

  it('names the skip fraction and its range, and the steps a skip leaves', () => {
    expect(sampleFormProblem({ ...ok, skipFraction: 1 }, 1000)).toMatch(/^Skip fraction: must be a number in \[0, 1\)/);
    expect(sampleFormProblem({ ...ok, skipFraction: -0.1 }, 1000)).toMatch(/^Skip fraction: must be a number in \[0, 1\)/);
    expect(sampleFormProblem({ ...ok, skipFraction: 0.99, steps: 1 }, 50)).toBe("Skip fraction: 0.99 leaves no step of the model's T = 50: use a smaller fraction.");
    expect(sampleFormProblem({ ...ok, skipFraction: 0.5, steps: 30 }, 50)).toBe('Steps must be ≤ 25, the steps left after skipping 0.5 of T = 50.');
    expect(sampleFormProblem({ ...ok, sampler: 'ddim', skipFraction: 0.5, steps: 10 }, 50)).toMatch(/^DDIM cannot take exactly 10 of the 25 steps left/);
  });

  it('checks steps against T before the skip, and the other fields after', () => {
    expect(sampleFormProblem({ ...ok, steps: 60 }, 50)).toBe('Steps must be ≤ the run’s T = 50.');
    expect(sampleFormProblem({ ...ok, steps: 60 }, null)).toBeNull();
    expect(sampleFormProblem({ ...ok, count: 0 }, 1000)).toBe('Count must be a whole number ≥ 1.');
    expect(sampleFormProblem({ ...ok, sampler: 'ddim', eta: 2 }, 1000)).toBe('η must be in [0, 1].');
  });
});
