/**
 * A dataset path that does not exist is refused when the run is created (the form shows it beside the Path field),
 * not when the worker starts; nothing is stored for the refused run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import type { RunConfig } from '../../src-shared/config/runConfig';
import { startHarness, type Harness } from './serviceHarness';

let harness: Harness | undefined;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'iddpm-dspath-'));
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

function folderRun(p: string): RunConfig {
  const base = getPreset('tiny-test').config;
  return { ...base, dataset: { kind: 'folder', path: p } };
}

async function refusal(h: Harness, config: RunConfig): Promise<{ field?: string; problems?: { field: string; message: string }[] }> {
  try {
    await h.service.createRun({ config, start: false });
  } catch (e) {
    return (e as { extra: { field?: string; problems?: { field: string; message: string }[] } }).extra;
  }
  throw new Error('createRun accepted the run');
}

describe('the dataset path of a new run', () => {
  it('is refused at creation when it does not exist, or is a file where a folder is needed', async () => {
    harness = await startHarness();
    const missing = path.join(scratch, 'no-such-folder');
    const r1 = await refusal(harness, folderRun(missing));
    expect(r1.field).toBe('dataset.path');
    expect(r1.problems).toEqual([{ field: 'dataset.path', message: `dataset.path ${missing} does not exist: choose an existing folder.` }]);

    const file = path.join(scratch, 'image.png');
    writeFileSync(file, 'x');
    const r2 = await refusal(harness, folderRun(file));
    expect(r2.problems?.[0].message).toMatch(/is a file: dataset 'folder' needs the folder of training images/);
    expect(await harness.service.listRuns()).toEqual([]);
    rmSync(scratch, { recursive: true, force: true });
  });
});
