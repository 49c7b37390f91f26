/** The request gate shared by the web face and Electron IPC: good calls pass, bad ones get bad-request. */
import { describe, expect, it } from 'vitest';
import { API_METHODS, type ApiMethod } from '../../src-shared/protocol';
import { DEFAULT_RUN_CONFIG } from '../../src-shared/config/runConfig';
import { handleRequest, toApiError, validateRequest } from '../../src-main/server/validateRequest';

/** One well-formed call per method, as the renderer makes them. */
const GOOD: Record<ApiMethod, unknown[][]> = {
  systemInfo: [[]],
  backends: [[]],
  presets: [[]],
  validateConfig: [[DEFAULT_RUN_CONFIG], [{}], [null]],
  listRuns: [[]],
  runDetail: [['20261127-101500', 2000]],
  series: [['r', ['loss', 'vb'], 500], ['r', ['mse'], 500, 0, 1000]],
  vlbSnapshot: [['r', 0]],
  createRun: [[{ config: DEFAULT_RUN_CONFIG }], [{ config: DEFAULT_RUN_CONFIG, name: 'n', preset: 'tiny-test', start: true }]],
  startRun: [['r']],
  pauseRun: [['r']],
  resumeRun: [['r'], ['r', {}], ['r', { fromGoodCheckpoint: true }]],
  stopRun: [['r']],
  duplicateRun: [['r']],
  deleteRun: [['r']],
  startSampling: [
    [{ runId: 'r', sampler: 'ancestral', steps: 10, eta: 0, count: 4, seed: 0, clipDenoised: true }],
    [{ runId: 'r', checkpointId: 3, emaRate: null, sampler: 'ddim', steps: 50, eta: 0.5, count: 16, seed: 42, clipDenoised: false }],
  ],
  startEvaluation: [[{ runId: 'r', images: 64 }], [{ runId: 'r', images: 8, checkpointId: 1, emaRate: 0.9999 }]],
  startQualityEvaluation: [
    [{ runId: 'r', metrics: ['fid'], count: 64, sampler: 'ancestral', steps: 25 }],
    [{ runId: 'r', checkpointId: 2, metrics: ['fid', 'kid', 'pr', 'is'], count: 500, sampler: 'ddim', steps: 50, eta: 0, seed: 3, emaRate: null, skipFraction: 0.2, realCount: 400 }],
  ],
  startQualitySweep: [
    [{ runId: 'r', metrics: ['fid'], count: 64, steps: [10, 25] }],
    [{ runId: 'r', metrics: ['kid'], count: 64, steps: [10], samplers: ['ddim'], seed: 1, emaRate: 0.9999 }],
  ],
  listQualityResults: [['r']],
  qualityAvailability: [['r']],
  cancelJob: [[12]],
  listJobs: [[]],
  listSampleSets: [[{}], [{ runId: 'r', kind: 'samples' }], []],
  importReferenceRun: [[{ path: '/logs/run1' }], [{ path: '/logs/model000100.pt', flags: '--num_heads 4', name: 'n' }]],
  followReferenceRun: [[{ dir: '/shared/logs' }], [{ dir: '/shared/logs', flags: '--num_heads 4', runId: 'r', intervalSec: 2 }]],
  stopFollowingReferenceRun: [['/shared/logs']],
  listReferenceFollows: [[]],
  exportForReference: [[{ runId: 'r', outDir: '/tmp/x' }], [{ runId: 'r', outDir: '/tmp/x', processes: 8, includeImages: false }]],
  studyKinds: [[]],
  listStudies: [[]],
  createStudy: [[{ kind: 'importance-sampling' }], [{ kind: 'noise-schedule', size: 'tiny', name: 'n' }]],
  studyReport: [['importance-sampling-20261129-170000']],
  stopStudy: [['s']],
  resumeStudy: [['s']],
  exportStudy: [['s']],
  deleteStudy: [['s'], ['s', {}], ['importance-sampling-20261129-170000', { withRuns: true }]],
};

const BAD: [string, unknown][] = [
  ['systemInfo', [1]],
  ['validateConfig', []],
  ['runDetail', ['r']],
  ['runDetail', ['', 10]],
  ['runDetail', ['r', 0]],
  ['series', ['r', 'loss', 10]],
  ['series', ['r', ['loss'], 10, -1]],
  ['vlbSnapshot', ['r', 1.5]],
  ['createRun', []],
  ['createRun', [{ config: 'x' }]],
  ['createRun', [{ config: {}, start: 'yes' }]],
  ['startRun', [7]],
  ['startRun', []],
  ['resumeRun', ['r', { fromGoodCheckpoint: 'yes' }]],
  ['resumeRun', ['r', { fromGood: true }]],
  ['resumeRun', ['r', true]],
  ['resumeRun', ['r', {}, 1]],
  ['startSampling', [{ sampler: 'ddim', steps: 1, count: 1, seed: 0 }]],
  ['startSampling', [{ runId: 'r', sampler: 'ddim', steps: 0, count: 1, seed: 0 }]],
  ['startSampling', [{ runId: 'r', sampler: 'ddim', steps: 5, count: 1, seed: 0, emaRate: 2 }]],
  ['startSampling', [{ runId: 'r', sampler: 'ddim', steps: 5, count: 1, seed: 0, eta: 'x' }]],
  ['startEvaluation', [{ runId: 'r' }]],
  ['startQualityEvaluation', [{ runId: 'r', metrics: [], count: 64, sampler: 'ancestral', steps: 25 }]],
  ['startQualityEvaluation', [{ runId: 'r', metrics: ['fid'], count: 64, sampler: 'euler', steps: 25 }]],
  ['startQualityEvaluation', [{ runId: 'r', metrics: ['fid'], count: 64, sampler: 'ancestral', steps: 25, skipFraction: 'most' }]],
  ['startQualitySweep', [{ runId: 'r', metrics: ['fid'], count: 64, steps: '10,25' }]],
  ['startQualitySweep', [{ runId: 'r', metrics: ['fid'], count: 64, steps: [10, 2.5] }]],
  ['startQualitySweep', [{ runId: 'r', metrics: ['fid'], count: 64, steps: [10], samplers: [] }]],
  ['listQualityResults', []],
  ['cancelJob', [-1]],
  ['listSampleSets', ['r']],
  ['importReferenceRun', [{ path: '' }]],
  ['importReferenceRun', [{ path: '/x', flags: 4 }]],
  ['followReferenceRun', [{ dir: '/x', intervalSec: 0 }]],
  ['exportForReference', [{ runId: 'r' }]],
  ['exportForReference', [{ runId: 'r', outDir: '/x', processes: 0 }]],
  ['createStudy', [{ kind: 'noise' }]],
  ['createStudy', [{ kind: 'noise-schedule', size: 'huge' }]],
  ['createStudy', [{ kind: 'noise-schedule', name: 3 }]],
  ['studyReport', ['../x']],
  ['resumeStudy', []],
  ['deleteStudy', ['..']],
  ['deleteStudy', ['studies/../..']],
  ['deleteStudy', ['s', { withRuns: 'yes' }]],
  ['deleteStudy', ['s', { runs: true }]],
  ['listRuns', null],
  ['listRuns', 'x'],
  ['toString', []],
  ['hasOwnProperty', []],
];

describe('validateRequest', () => {
  it('has a check for every API method', () => {
    expect(Object.keys(GOOD).sort()).toEqual([...API_METHODS].sort());
  });

  it.each(Object.entries(GOOD).flatMap(([m, calls]) => calls.map((p) => [m, p] as const)))('accepts %s %j', (method, params) => {
    const v = validateRequest(method, params);
    expect(v.ok, JSON.stringify(v)).toBe(true);
  });

  it.each(BAD)('refuses %s %j', (method, params) => {
    const v = validateRequest(method, params);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error.code).toBe('bad-request');
  });

  it('maps thrown errors to ApiError, keeping the service codes', () => {
    expect(toApiError(new Error('x'))).toEqual({ code: 'internal', message: 'x' });
    expect(toApiError(Object.assign(new Error('gone'), { code: 'not-found' }))).toEqual({ code: 'not-found', message: 'gone' });
    expect(toApiError(Object.assign(new Error('bad'), { code: 'ENOENT' }))).toEqual({ code: 'internal', message: 'bad' });
    const problems = [{ field: 'model.channels', message: 'must be > 0' }];
    expect(toApiError({ code: 'bad-request', message: 'invalid', field: 'model.channels', problems })).toEqual({
      code: 'bad-request',
      message: 'invalid',
      field: 'model.channels',
      problems,
    });
    const failure = Object.assign(new Error('bad config'), {
      code: 'bad-request',
      toApiError: () => ({ code: 'bad-request', message: 'bad config', problems }),
    });
    expect(toApiError(failure)).toEqual({ code: 'bad-request', message: 'bad config', problems });
    expect(toApiError('plain')).toEqual({ code: 'internal', message: 'plain' });
    expect(toApiError(undefined)).toEqual({ code: 'internal', message: 'the request failed' });
  });

  it('handleRequest calls the method with the validated params and never throws', async () => {
    const api = {
      listRuns: async () => ['a'],
      deleteRun: async () => undefined,
      runDetail: () => {
        throw new Error('sync throw');
      },
    } as never;
    expect(await handleRequest(api, 'listRuns', [])).toEqual({ result: ['a'] });
    expect(await handleRequest(api, 'deleteRun', ['r'])).toEqual({ result: null });
    expect(await handleRequest(api, 'runDetail', ['r', 10])).toEqual({ error: { code: 'internal', message: 'sync throw' } });
    expect(await handleRequest(api, 'nope', [])).toMatchObject({ error: { code: 'bad-request' } });
  });
});
