import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute, type Route } from '../../src-renderer/src/lib/routes';

describe('hash routes', () => {
  const places: [string, Route][] = [
    ['#/runs', { view: 'runs', runId: null, setId: null, studyId: null }],
    ['#/runs/20261129-140102-a1b2', { view: 'run-detail', runId: '20261129-140102-a1b2', setId: null, studyId: null }],
    ['#/new-run', { view: 'new-run', runId: null, setId: null, studyId: null }],
    ['#/sample?run=r%201', { view: 'sample', runId: 'r 1', setId: null, studyId: null }],
    ['#/evaluate?run=abc', { view: 'evaluate', runId: 'abc', setId: null, studyId: null }],
    ['#/gallery?run=abc&set=12', { view: 'gallery', runId: 'abc', setId: 12, studyId: null }],
    ['#/gallery', { view: 'gallery', runId: null, setId: null, studyId: null }],
    ['#/studies', { view: 'studies', runId: null, setId: null, studyId: null }],
    ['#/studies/noise-schedule-1', { view: 'study', runId: null, setId: null, studyId: 'noise-schedule-1' }],
  ];
  it('round-trips every place', () => {
    for (const [hash, route] of places) {
      expect(parseRoute(hash), hash).toEqual(route);
      expect(formatRoute(route), hash).toBe(hash);
    }
  });
  it('reads an empty, unknown or malformed hash as the runs table', () => {
    for (const hash of ['', '#', '#/', '#/nowhere', '#/runs/a/b', '#/sample/extra', '#/studies/a/b']) {
      expect(parseRoute(hash), hash).toEqual({ view: 'runs', runId: null, setId: null, studyId: null });
    }
    expect(parseRoute('#/gallery?set=x').setId).toBeNull();
    expect(parseRoute('#/runs/%E0%A4%A').runId).toBe('%E0%A4%A');
  });
  it('leaves out what a view does not read, so one place has one URL', () => {
    expect(formatRoute({ view: 'runs', runId: 'abc', setId: 3, studyId: null })).toBe('#/runs');
    expect(formatRoute({ view: 'new-run', runId: 'abc', setId: null, studyId: null })).toBe('#/new-run');
    expect(formatRoute({ view: 'sample', runId: 'abc', setId: 3, studyId: null })).toBe('#/sample?run=abc');
    expect(formatRoute({ view: 'studies', runId: 'abc', setId: null, studyId: 's1' })).toBe('#/studies');
    expect(formatRoute({ view: 'study', runId: 'abc', setId: null, studyId: 's 1' })).toBe('#/studies/s%201');
  });
});
