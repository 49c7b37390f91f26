import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute, type Route } from '../../src-renderer/src/lib/routes';

describe('hash routes', () => {
  const places: [string, Route][] = [
    ['#/runs', { view: 'runs', runId: null, setId: null }],
    ['#/runs/20261129-140102-a1b2', { view: 'run-detail', runId: '20261129-140102-a1b2', setId: null }],
    ['#/new-run', { view: 'new-run', runId: null, setId: null }],
    ['#/sample?run=r%201', { view: 'sample', runId: 'r 1', setId: null }],
    ['#/evaluate?run=abc', { view: 'evaluate', runId: 'abc', setId: null }],
    ['#/gallery?run=abc&set=12', { view: 'gallery', runId: 'abc', setId: 12 }],
    ['#/gallery', { view: 'gallery', runId: null, setId: null }],
  ];
  it('round-trips every place', () => {
    for (const [hash, route] of places) {
      expect(parseRoute(hash), hash).toEqual(route);
      expect(formatRoute(route), hash).toBe(hash);
    }
  });
  it('reads an empty, unknown or malformed hash as the runs table', () => {
    for (const hash of ['', '#', '#/', '#/nowhere', '#/runs/a/b', '#/sample/extra']) {
      expect(parseRoute(hash), hash).toEqual({ view: 'runs', runId: null, setId: null });
    }
    expect(parseRoute('#/gallery?set=x').setId).toBeNull();
    expect(parseRoute('#/runs/%E0%A4%A').runId).toBe('%E0%A4%A');
  });
  it('leaves out what a view does not read, so one place has one URL', () => {
    expect(formatRoute({ view: 'runs', runId: 'abc', setId: 3 })).toBe('#/runs');
    expect(formatRoute({ view: 'new-run', runId: 'abc', setId: null })).toBe('#/new-run');
    expect(formatRoute({ view: 'sample', runId: 'abc', setId: 3 })).toBe('#/sample?run=abc');
  });
});
