/**
 * `iddpm stop`, `runs` and `resume` on runs that another process trains, or that nobody trains any more
 * although the database still says running: real CLI child processes on a temp data directory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import { isProcessAlive } from '../../src-main/runs/workerLock';
import { openStore } from '../../src-main/store';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin', 'iddpm.mjs');
const data = mkdtempSync(path.join(os.tmpdir(), 'iddpm-cli-other-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(data, { recursive: true, force: true });
});

function iddpm(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--data', data], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function db<T>(fn: (store: ReturnType<typeof openStore>) => T): T {
  const store = openStore(path.join(data, 'studio.db'));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

describe('runs of other processes', () => {
  it('a run left running with a pid that is now an unrelated program: runs shows interrupted, stop does not signal it', () => {
    const bystander = spawn('sleep', ['60']);
    children.push(bystander);
    const pid = bystander.pid!;
    db((s) => {
      s.createRun({ id: 'crashed', name: 'crashed', config: getPreset('tiny-test').config, status: 'running', runDir: path.join(data, 'runs', 'crashed') });
      s.updateRun('crashed', { workerPid: pid });
    });

    const list = iddpm('runs', '--json');
    expect(list.code, list.stderr).toBe(0);
    const row = JSON.parse(list.stdout).find((r: { id: string }) => r.id === 'crashed');
    expect(row.status).toBe('interrupted');
    expect(row.reason).toMatch(new RegExp(`worker process \\(pid ${pid}\\) is gone`));
    // Listing only reads.
    expect(db((s) => s.getRun('crashed')!.status)).toBe('running');

    const stop = iddpm('stop', 'crashed');
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(new RegExp(`worker process \\(pid ${pid}\\) is gone.*Nothing was signalled`));
    expect(isProcessAlive(pid)).toBe(true);
    expect(bystander.exitCode).toBeNull();
    expect(bystander.signalCode).toBeNull();
    expect(db((s) => s.getRun('crashed'))).toMatchObject({ status: 'interrupted', workerPid: null });
  });

  it('resume of a run that another iddpm process trains says so and exits non-zero; stop reaches that process', async () => {
    const train = spawn(process.execPath, [bin, 'train', '--preset', 'tiny-test', '--steps', '100000', '--eval-every', '0', '--preview-every', '0', '--gns-every', '0', '--checkpoint-every', '0', '--data', data, '--run-id', 'busy']);
    children.push(train);
    let out = '';
    train.stdout.on('data', (d) => (out += d));
    train.stderr.on('data', () => {});
    const exited = new Promise<number | null>((resolve) => train.on('exit', (code) => resolve(code)));
    let workerPid: number | null = null;
    for (let i = 0; i < 1200 && !workerPid; i++) {
      workerPid = db((s) => {
        const r = s.getRun('busy');
        return r?.status === 'running' && r.step > 0 ? r.workerPid : null;
      });
      if (!workerPid) await new Promise((r) => setTimeout(r, 100));
    }
    expect(workerPid).toBeTruthy();

    const listed = JSON.parse(iddpm('runs', '--json').stdout).find((r: { id: string }) => r.id === 'busy');
    expect(listed.status).toBe('running');

    const resume = iddpm('resume', 'busy');
    expect(resume.code).toBe(1);
    expect(resume.stderr).toMatch(new RegExp(`run 'busy' is being trained by another studio process \\(an iddpm command, process ${train.pid}, worker pid ${workerPid}\\)`));
    expect(resume.stderr).not.toMatch(/resuming/);
    expect(db((s) => s.getRun('busy')!.workerPid)).toBe(workerPid);

    const stop = iddpm('stop', 'busy');
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/asked run busy to stop/);
    expect(await exited).toBe(130);
    expect(out).toMatch(/run busy stopped at step \d+/);
    expect(db((s) => s.getRun('busy')!.status)).toBe('stopped');
  });
});
