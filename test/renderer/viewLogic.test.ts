import { describe, expect, it } from 'vitest';
import { allowedActions, etaSeconds } from '../../src-renderer/src/views/runs/runActions';
import { smoothEma } from '../../src-renderer/src/charts/smooth';
import { parseNumber, parseNumberList } from '../../src-renderer/src/views/newrun/fields';
import { damageText, resumeFromGoodLabel } from '../../src-renderer/src/views/detail/checkpointDamage';

describe('run actions', () => {
  it('offers Resume for failed, interrupted and stopped runs, never for running ones', () => {
    for (const status of ['failed', 'interrupted', 'stopped'] as const) expect(allowedActions({ status, startedAt: 1 })).toContain('resume');
    expect(allowedActions({ status: 'running', startedAt: 1 })).toEqual(['pause', 'stop', 'duplicate']);
  });
  it('offers Start for a created, never-started run', () => {
    expect(allowedActions({ status: 'queued', startedAt: null })[0]).toBe('start');
    expect(allowedActions({ status: 'queued', startedAt: 5 })[0]).toBe('stop');
  });
  it('computes the ETA from the recent rate', () => {
    expect(etaSeconds({ status: 'running', step: 100, maxSteps: 1100, stepsPerSec: 10 })).toBe(100);
    expect(etaSeconds({ status: 'running', step: 100, maxSteps: null, stepsPerSec: 10 })).toBeNull();
    expect(etaSeconds({ status: 'paused', step: 100, maxSteps: 1100, stepsPerSec: 10 })).toBeNull();
  });
});

describe('smoothing', () => {
  it('is the identity at weight 0 and debiased (a constant stays constant) otherwise', () => {
    expect(smoothEma([1, 2, 3], 0)).toEqual([1, 2, 3]);
    for (const v of smoothEma([5, 5, 5, 5], 0.9)) expect(v).toBeCloseTo(5, 12);
  });
});

describe('form parsing', () => {
  it('keeps what it cannot parse so the validator can name it', () => {
    expect(parseNumber(' 2e-4 ')).toBe(2e-4);
    expect(parseNumber('')).toBeUndefined();
    expect(parseNumber('abc')).toBe('abc');
    expect(parseNumberList('1, 2,2')).toEqual([1, 2, 2]);
    expect(parseNumberList('1, x')).toBe('1, x');
  });
});

describe('damaged checkpoint note', () => {
  const damage = { file: '/d/runs/r/checkpoints/step-00000020.safetensors', step: 20, problem: 'it is truncated: 10 of its 20 bytes are on disk', goodStep: 10, lostSteps: [11, 23] as [number, number] };
  it('names the step to resume from and the steps that are lost', () => {
    expect(resumeFromGoodLabel(damage)).toBe('Resume from step 10 (steps 11…23 are lost)');
    expect(resumeFromGoodLabel({ ...damage, goodStep: null, lostSteps: [1, 23] })).toBe('Resume from step 0 (steps 1…23 are lost)');
  });
  it('names the file and the problem', () => {
    expect(damageText(damage)).toBe('The latest checkpoint (step-00000020.safetensors, step 20) cannot be resumed from: it is truncated: 10 of its 20 bytes are on disk. The newest whole checkpoint is at step 10.');
  });
});
