/** Refusals of the request gate name the method once, then the field and the fix. */
import { describe, expect, it } from 'vitest';
import { validateRequest } from '../../src-main/server/validateRequest';

const CASES: [string, unknown[]][] = [
  ['validateConfig', []],
  ['createRun', [7]],
  ['createRun', [{ config: 'x' }]],
  ['createRun', [{ config: {}, id: '..' }]],
  ['createRun', [{ config: {}, name: 'n'.repeat(300) }]],
  ['startSampling', ['x']],
  ['startEvaluation', ['x']],
  ['listSampleSets', ['x']],
  ['deleteRun', ['..']],
];

describe('request gate messages', () => {
  it.each(CASES)('%s %j: the method is named once', (method, params) => {
    const v = validateRequest(method, params);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.error.message.startsWith(`${method}: `)).toBe(true);
    expect(v.error.message.split(method).length - 1, v.error.message).toBe(1);
  });

  it('says which field is wrong', () => {
    const msg = (params: unknown[]) => {
      const v = validateRequest('createRun', params);
      return v.ok ? '' : v.error.message;
    };
    expect(msg([{ config: 'x' }])).toBe('createRun: config must be a run config object');
    expect(msg([{ config: {}, name: 'n'.repeat(300) }])).toBe('createRun: name is 300 characters long: use at most 200');
    const del = validateRequest('deleteRun', ['..']);
    expect(del.ok ? '' : del.error.message).toMatch(/^deleteRun: runId '\.\.' is not allowed/);
  });
});
