/**
 * `iddpm train --run-id ID` where ID is already a run: a real CLI process on a real studio.db must say the run
 * exists and how to continue it (before any config is built or validated), and leave the run as it was.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import { openStore } from '../../src-main/store';
import { IDDPM_BIN } from './stoppedRun';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'iddpm-train-existing-'));
const data = path.join(tmp, 'data');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function iddpm(...args: string[]) {
  const r = spawnSync(process.execPath, [IDDPM_BIN, ...args], {
    encoding: 'utf8',
    cwd: tmp,
    timeout: 120_000,
    env: { ...process.env, IDDPM_DATA: path.join(tmp, 'not-the-data') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function snapshot() {
  const store = openStore(path.join(data, 'studio.db'));
  try {
    return { runs: store.listRuns(), files: readdirSync(path.join(data, 'runs'), { recursive: true }).map(String).sort() };
  } finally {
    store.close();
  }
}

beforeAll(() => {
  // A stopped run at step 200 of 500 with a folder of its own, as a stopped `iddpm train` leaves it.
  const config = getPreset('tiny-test').config;
  config.training.maxSteps = 500;
  const runDir = path.join(data, 'runs', 'digits');
  mkdirSync(path.join(runDir, 'checkpoints'), { recursive: true });
  writeFileSync(path.join(runDir, 'config.json'), JSON.stringify(config));
  const store = openStore(path.join(data, 'studio.db'));
  store.createRun({ id: 'digits', name: 'digits', config, status: 'stopped', runDir });
  store.updateRun('digits', { step: 200, startedAt: Date.now() - 60_000 });
  store.close();
});

describe('iddpm train --run-id of an existing run', () => {
  it('says the run exists and how to continue it, instead of validating a fresh default config', () => {
    const before = snapshot();
    // No --preset: a fresh default config would fail on its dataset path first (the message this replaces).
    const r = iddpm('train', '--run-id', 'digits', '--steps', '700', '--data', data);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/run digits already exists \(stopped at step 200 of 500\)/);
    expect(r.stderr).toContain(`iddpm resume digits --data ${data}`);
    expect(r.stderr).toMatch(/duplicate it/);
    expect(r.stderr).not.toMatch(/dataset\.path|dataset-path/);
    expect(snapshot()).toEqual(before);
  });

  it('says so too when the flags would make a valid config, and creates nothing', () => {
    const before = snapshot();
    const r = iddpm('train', '--preset', 'tiny-test', '--run-id', 'digits', '--data', data);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/run digits already exists/);
    expect(snapshot()).toEqual(before);
  });
});
