/**
 * `iddpm resume` on a run whose newest checkpoint was cut short, as real CLI processes: plain resume names
 * the file and the flag and exits non-zero; `--from-good-checkpoint` resumes from the older one to the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src-main/store';
import { IDDPM_BIN as bin, trainAndStop } from './stoppedRun';

const data = mkdtempSync(path.join(os.tmpdir(), 'iddpm-cli-damaged-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));

function iddpm(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--data', data], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('iddpm resume with a damaged latest checkpoint', () => {
  it('plain resume names the file and the flag; --from-good-checkpoint resumes from the older checkpoint and finishes', async () => {
    const { code, checkpoints } = await trainAndStop(data, 'cut', 14, 6);
    expect(code).toBe(130);
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    const newest = checkpoints.at(-1)!;
    const goodStep = Number(/step-(\d+)/.exec(checkpoints.at(-2)!)![1]);
    truncateSync(newest, Math.floor(readFileSync(newest).length * 0.9));

    const plain = iddpm('resume', 'cut');
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain(`its latest checkpoint ${newest}`);
    expect(plain.stderr).toMatch(/is damaged: it is truncated/);
    expect(plain.stderr).toContain(`the newest good checkpoint is at step ${goodStep}`);
    expect(plain.stderr).toContain('iddpm resume cut --from-good-checkpoint');
    expect(plain.stderr).not.toMatch(/resuming/);

    const good = iddpm('resume', 'cut', '--from-good-checkpoint');
    expect(good.code, good.stderr).toBe(0);
    expect(good.stderr).toMatch(new RegExp(`resuming run cut from the checkpoint at step ${goodStep}\\n`));
    expect(good.stderr).toMatch(new RegExp(`steps ${goodStep + 1}…\\d+ are lost and trained again`));
    expect(good.stdout).toMatch(/run cut finished at step 14/);
    expect(existsSync(`${newest}.damaged`)).toBe(true);
    const after = openStore(path.join(data, 'studio.db'));
    try {
      expect(after.readSeries('cut', 'loss', { points: 1000 }).step).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    } finally {
      after.close();
    }
  });
});
