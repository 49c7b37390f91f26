import { describe, expect, it } from 'vitest';
import type { StudyChart, StudyRunInfo } from '../../src-shared/protocol';
import { PALETTE } from '../../src-shared/chartPalette';
import { aboutMinutes, runProgress, runsStillStopping, studyActions, studyChartSeries, studyIsActive, verdictStatus } from '../../src-renderer/src/views/studies/studyView';

const runs: StudyRunInfo[] = [
  { key: 'linear', label: 'linear', runId: 'r1', status: 'done', step: 100, maxSteps: 100 },
  { key: 'cosine', label: 'cosine', runId: 'r2', status: 'running', step: 30, maxSteps: 120 },
];

describe('study actions', () => {
  it('offers Stop while a study works, Resume once it stopped, was interrupted or failed, nothing when done', () => {
    expect(studyActions('training')).toEqual(['stop']);
    expect(studyActions('evaluating')).toEqual(['stop']);
    for (const s of ['stopped', 'interrupted', 'failed'] as const) expect(studyActions(s)).toEqual(['resume']);
    expect(studyActions('done')).toEqual([]);
    expect(studyIsActive('evaluating')).toBe(true);
    expect(studyIsActive('stopped')).toBe(false);
  });
});

describe('study sizes in words', () => {
  it('rounds to minutes and hours', () => {
    expect(aboutMinutes(0.4)).toBe('under a minute');
    expect(aboutMinutes(4.2)).toBe('about 4 min');
    expect(aboutMinutes(70)).toBe('about 1 h 10 min');
    expect(aboutMinutes(120)).toBe('about 2 h');
    expect(aboutMinutes(Number.NaN)).toBe('unknown time');
  });
});

describe('report charts', () => {
  it('gives each run its palette colour by its place in the study, in every chart, and marks few-point series', () => {
    const chart: StudyChart = {
      id: 'nll',
      title: 'NLL',
      figure: null,
      xLabel: 'step',
      yLabel: 'bits/dim',
      xScale: 'linear',
      yScale: 'linear',
      caption: '',
      series: [
        // Listed in the other order than the study's runs: colours follow the runs, not the listing.
        { label: 'cosine', runKey: 'cosine', x: [1, 2, 3], y: [3, 2, 1] },
        { label: 'linear', runKey: 'linear', x: Array.from({ length: 50 }, (_, i) => i), y: Array.from({ length: 50 }, () => 1) },
        { label: 'paper', runKey: null, x: [0, 1], y: [1, 1] },
      ],
    };
    const s = studyChartSeries(chart, runs);
    expect(s.map((x) => x.color)).toEqual([PALETTE[1], PALETTE[0], '#999999']);
    expect(s.map((x) => x.points)).toEqual([true, false, true]);
    expect(s.map((x) => x.dashed)).toEqual([false, false, true]);
  });
  it('colours verdicts by outcome and measures run progress', () => {
    expect(verdictStatus('holds')).toBe('done');
    expect(verdictStatus('does not hold')).toBe('failed');
    expect(verdictStatus('not enough data')).toBe('paused');
    expect(runProgress(runs[1])).toBeCloseTo(0.25);
    expect(runProgress({ ...runs[1], maxSteps: null })).toBeNull();
  });
});

describe('resume after stop', () => {
  it('waits for runs still running in a stopped study, and for nothing in an active one', () => {
    const now = [
      { label: 'linear', status: 'running' as const },
      { label: 'cosine', status: 'stopped' as const },
    ];
    expect(runsStillStopping('stopped', now)).toEqual(['linear']);
    expect(runsStillStopping('stopped', [{ label: 'cosine', status: 'stopped' }])).toEqual([]);
    expect(runsStillStopping('training', now)).toEqual([]);
  });
});
