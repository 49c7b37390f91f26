import { describe, expect, it } from 'vitest';
import { allowedActions, etaSeconds, rowBackend, statusLabel } from '../../src-renderer/src/views/runs/runActions';
import { vlbTotal } from '../../src-renderer/src/views/detail/vlbTotal';
import { defaultRunId, describeCost, nameRunsIn } from '../../src-renderer/src/lib/runChoice';
import { jobEtaSeconds } from '../../src-renderer/src/lib/jobEta';
import { noPreviewsNote } from '../../src-renderer/src/views/detail/previewNote';
import { inFormWords } from '../../src-renderer/src/views/newrun/formWords';
import { labelDigits, logTickLabel, thinLogTicks } from '../../src-shared/axisTicks';
import { smoothEma } from '../../src-renderer/src/charts/smooth';
import { parseNumber, parseNumberList } from '../../src-renderer/src/views/newrun/fields';
import { damageText, resumeFromGoodLabel } from '../../src-renderer/src/views/detail/checkpointDamage';
import { setDisplay } from '../../src-renderer/src/components/setDisplay';
import { emaInitialShareText, emaRatesWithShares } from '../../src-renderer/src/lib/emaShare';
import { initialWeightShare } from '../../src-shared/emaWeights';

describe('run actions', () => {
  it('offers Resume for failed, interrupted and stopped runs, never for running ones', () => {
    for (const status of ['failed', 'interrupted', 'stopped'] as const) expect(allowedActions({ status, startedAt: 1, step: 5 })).toContain('resume');
    expect(allowedActions({ status: 'running', startedAt: 1, step: 5 })).toEqual(['pause', 'stop', 'duplicate']);
  });
  it('offers Start, not Resume, for a created, never-started run, and calls it "not started"', () => {
    // createRun without start stores 'stopped' at step 0 with no start time.
    const created = { status: 'stopped', startedAt: null, step: 0 } as const;
    expect(allowedActions(created)).toEqual(['start', 'duplicate', 'delete']);
    expect(statusLabel(created)).toBe('not started');
    expect(statusLabel({ status: 'stopped', startedAt: 5, step: 40 })).toBe('stopped');
    // A run queued behind another one has not started either, but Stop is what takes it out of the queue.
    expect(allowedActions({ status: 'queued', startedAt: null, step: 0 })[0]).toBe('stop');
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

describe('the VLB total of a snapshot', () => {
  it('is the exact sum plus the prior when every t was measured', () => {
    const r = vlbTotal([2, 0, 1], [0.5, 3, 1], 0.01, 3)!;
    expect(r.exact).toBe(true);
    expect(r.bpd).toBeCloseTo(4.51, 12);
  });
  it('interpolates the missing terms of a T = 1000 run (exact for terms linear in t)', () => {
    const ts = [0, 250, 500, 999];
    const r = vlbTotal(ts, ts.map((t) => 2 - t / 1000), 0.5, 1000)!;
    expect(r.exact).toBe(false);
    expect(r.measured).toBe(4);
    // Σ_{t<1000} (2 − t/1000) = 2000 − 499.5
    expect(r.bpd).toBeCloseTo(2000 - 499.5 + 0.5, 9);
  });
  it('holds the end values flat outside the measured range, and gives up on nothing measured', () => {
    expect(vlbTotal([10, 20], [1, 1], 0, 100)!.bpd).toBeCloseTo(100, 12);
    expect(vlbTotal([], [], 0, 100)).toBeNull();
  });
});

describe('the backend line of a row', () => {
  const machine = 'wasm — SIMD, 2 threads; native kernels: 2 threads, AVX2';
  it('is left out when the run ran on this machine’s backend, shown when it differs', () => {
    expect(rowBackend('wasm — SIMD; native kernels: off (IDDPM_NATIVE=0)', machine)).toBeNull();
    expect(rowBackend('cpu (forced by training.backend)', machine)).toBe('cpu (forced by training.backend)');
    expect(rowBackend(null, machine)).toBeNull();
  });
});

describe('choosing a run for Sample and Evaluate', () => {
  const runs = [
    { id: 'new', name: 'fresh', createdAt: 3, lastCheckpointStep: null },
    { id: 'mid', name: 'trained', createdAt: 2, lastCheckpointStep: 200 },
    { id: 'old', name: 'older', createdAt: 1, lastCheckpointStep: 50 },
  ];
  it('opens on the run asked for, else the newest with a checkpoint, else the newest', () => {
    expect(defaultRunId(runs, 'old')).toBe('old');
    expect(defaultRunId(runs, '')).toBe('mid');
    expect(defaultRunId(runs, 'deleted-run')).toBe('mid');
    expect(defaultRunId([runs[0]], '')).toBe('new');
    expect(defaultRunId([], '')).toBe('');
  });
  it('names runs, not ids, in the service’s messages', () => {
    expect(nameRunsIn("run 'mid' has no checkpoint yet: train it a little first", runs)).toBe('run “trained” has no checkpoint yet: train it a little first');
  });
  it('states a job’s cost before it starts, from the run’s speed when known', () => {
    expect(describeCost(256, 1000, 'T = 1,000', 12)).toBe('256 images × T = 1,000 = 256,000 network passes ≈ 1h 58m here (from this run’s training speed)');
    expect(describeCost(16, 50, '50 steps', null)).toBe('16 images × 50 steps = 800 network passes (no speed measured yet for this run)');
  });
  it('estimates a job’s time left from its progress once it has some', () => {
    expect(jobEtaSeconds(0.25, 30)).toBe(90);
    expect(jobEtaSeconds(0.01, 30)).toBeNull();
    expect(jobEtaSeconds(1, 30)).toBeNull();
  });
});

describe('a run without previews', () => {
  const run = (status: 'done' | 'running' | 'stopped', step: number, previewEvery: number, startedAt: number | null = 1) => ({ status, step, startedAt, config: { intervals: { previewEvery } } });
  it('says why: off, not yet, or ended before the first', () => {
    expect(noPreviewsNote(run('done', 200, 0))).toMatch(/off for this run/);
    expect(noPreviewsNote(run('running', 20, 250))).toBe('No previews yet: the first comes at step 250.');
    expect(noPreviewsNote(run('done', 200, 250))).toBe('No previews: the run ended at step 200, before the first preview at step 250.');
    expect(noPreviewsNote(run('stopped', 0, 250, null))).toMatch(/has not started/);
  });
});

describe('log-axis ticks', () => {
  it('never repeat a label over a narrow range (the gradient noise scale between 31 and 38)', () => {
    // What Chart.js generates for such an axis: its min, max and the integers between, none of them round.
    const generated = [31, 31.4, 32, 33, 34, 35, 36, 37, 37.6];
    const kept = thinLogTicks(generated, 31, 37.6);
    const labels = kept.map((v) => logTickLabel(v, labelDigits(kept)));
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels.length).toBeGreaterThanOrEqual(2);
    // A range inside one integer: Chart.js gives just its min and max, which two digits print alike ("35", "35").
    const narrow = thinLogTicks([35.1, 35.4], 35.1, 35.4);
    expect(narrow.map((v) => logTickLabel(v, labelDigits(narrow)))).toEqual(['35.1', '35.4']);
  });
  it('keeps round, spaced ticks over decades and labels them compactly', () => {
    const kept = thinLogTicks([1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1], 1e-4, 0.1);
    expect(kept).toEqual([1e-4, 5e-4, 2e-3, 1e-2, 5e-2]);
    expect(kept.map((v) => logTickLabel(v, labelDigits(kept)))).toEqual(['1e-4', '5e-4', '0.002', '0.01', '0.05']);
  });
  it('tells close ticks apart with more digits instead of repeating one', () => {
    expect(labelDigits([31.2, 31.4])).toBe(3);
    expect(thinLogTicks([35.001, 35.0012], 35, 35.002)).toEqual([35.001, 35.0012]);
  });
});

describe('New run messages in the form’s words', () => {
  it('names the field by its label and drops advice about quotes the user never typed', () => {
    expect(inFormWords('training.lr must be a number, not string "abc": write it without quotes.')).toBe('Learning rate must be a number; “abc” is not one.');
    expect(inFormWords('training.lr 0 must be greater than 0: the paper uses 1e-4.')).toBe('Learning rate 0 must be greater than 0: the paper uses 1e-4.');
  });
  it('gives list examples as the list fields take them', () => {
    expect(inFormWords('model.channelMult is empty: give one multiplier per resolution level, e.g. [1, 2, 2, 2].')).toBe(
      'Channel multipliers is empty: give one multiplier per resolution level, e.g. 1, 2, 2, 2.',
    );
    expect(inFormWords('model.attentionResolutions must be a list of numbers such as [16, 8], not string "1, x".')).toBe(
      'Attention at (px) must be a list of numbers such as 16, 8, not “1, x”.',
    );
  });
  it('reads the longest path first and leaves the JSON-only hint out', () => {
    expect(inFormWords('model.numHeadsUpsample 0 must be a positive integer, or -1 for the same as model.numHeads.')).toBe(
      'Heads on the way up 0 must be a positive integer, or -1 for the same as Attention heads.',
    );
    expect(inFormWords('training.seed is missing: set it (withDefaults fills every field).')).toBe('Seed is missing: set it.');
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

describe('what a gallery card shows', () => {
  const images = [0, 1, 2].map((index) => ({ index, url: `/files/s/${index}.png` }));
  const preview = { kind: 'preview' as const, gridUrl: '/files/p/grid.png', images: [] };
  const samples = { kind: 'samples' as const, gridUrl: '/files/s/grid.png', images };
  it('shows a preview set’s grid when single images are asked for, and says it has only its grid', () => {
    const d = setDisplay(preview, true);
    expect(d.show).toBe('grid');
    expect(d.note).toMatch(/preview set keeps only its grid/);
    expect(setDisplay(preview, false)).toEqual({ show: 'grid', note: null });
  });
  it('shows what was asked for when the set has both', () => {
    expect(setDisplay(samples, true)).toEqual({ show: 'singles', note: null });
    expect(setDisplay(samples, false)).toEqual({ show: 'grid', note: null });
  });
  it('shows the singles of a set without a grid, and says so when a set has nothing', () => {
    expect(setDisplay({ ...samples, gridUrl: null }, false)).toEqual({ show: 'singles', note: null });
    expect(setDisplay({ ...samples, gridUrl: null, images: [] }, true)).toEqual({ show: 'nothing', note: 'This set has no stored images.' });
  });
});

describe('initial weights an EMA still holds, per checkpoint', () => {
  // At step 200 an EMA of rate 0.995 without warm-up still holds 0.995^200 ≈ 37% of the initial weights.
  const at200 = { emaRates: [0.995, 0.9999], emaInitialShares: [initialWeightShare(0.995, 200, false), initialWeightShare(0.9999, 200, false)] };
  it('shows every EMA of a checkpoint with its share, in the picker’s format', () => {
    expect(emaInitialShareText(at200, 0.995)).toBe('37%');
    expect(emaRatesWithShares(at200)).toBe('0.995 (37% initial weights), 0.9999 (98% initial weights)');
  });
  it('falls back to the bare rate when the share is unknown, and says "none" without EMA', () => {
    expect(emaInitialShareText(at200, 0.5)).toBeNull();
    expect(emaRatesWithShares({ emaRates: [0.995], emaInitialShares: undefined as unknown as number[] })).toBe('0.995');
    expect(emaRatesWithShares({ emaRates: [], emaInitialShares: [] })).toBe('none');
  });
});
