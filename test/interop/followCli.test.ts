/**
 * `iddpm follow` as a real child process: while it watches a folder, a "cluster" (this test) writes progress
 * rows and a checkpoint into it; they arrive in the studio's database. Ctrl-C stops following cleanly.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src-main/store';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin', 'iddpm.mjs');
const LOGDIR = path.join(root, 'test', 'fixtures', 'reference', 'logdir');
const data = mkdtempSync(path.join(os.tmpdir(), 'iddpm-follow-cli-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));

/** Waits (up to a generous bound) until `probe` returns a value; the store is read in between. */
async function until<T>(probe: () => T | null | undefined, what: string, maxMs = 120_000): Promise<T> {
  const end = Date.now() + maxMs;
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('iddpm follow', () => {
  it('adds rows and a checkpoint written while it watches, and stops on Ctrl-C', async () => {
    const dir = path.join(data, 'cluster');
    mkdirSync(dir);
    const lines = readFileSync(path.join(LOGDIR, 'progress.csv'), 'utf8').split('\n').filter(Boolean);
    writeFileSync(path.join(dir, 'progress.csv'), `${lines.slice(0, 2).join('\n')}\n`);
    for (const [from, to] of [['model000004.pt', 'model000001.pt'], ['ema_0.9999_000004.pt', 'ema_0.9999_000001.pt'], ['opt000004.pt', 'opt000001.pt']]) {
      copyFileSync(path.join(LOGDIR, from), path.join(dir, to));
    }
    const child = spawn(process.execPath, [bin, 'follow', dir, '--flags', '--image_size 8 --num_heads 2 --diffusion_steps 50 --noise_schedule cosine', '--interval', '0.2', '--data', data], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const store = openStore(path.join(data, 'studio.db'));
    try {
      const runId = await until(() => store.listRuns()[0]?.id, 'the run to be created');
      await until(() => (store.listCheckpoints(runId).length === 1 ? true : null), 'checkpoint 1');

      // The cluster goes on: three more steps and the checkpoint at step 4.
      appendFileSync(path.join(dir, 'progress.csv'), `${lines.slice(2).join('\n')}\n`);
      for (const f of ['model000004.pt', 'ema_0.9999_000004.pt', 'opt000004.pt']) copyFileSync(path.join(LOGDIR, f), path.join(dir, f));
      await until(() => (store.readSeriesRaw(runId, 'loss').step.length === 4 ? true : null), 'rows 2-4');
      await until(() => (store.listCheckpoints(runId).map((c) => c.step).join() === '1,4' ? true : null), 'checkpoint 4');

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).toMatch(/stopped following; run .* keeps what arrived/);
      expect(stdout).toMatch(/created run/);
      expect(stdout).toMatch(/checkpoint at step 4/);
      expect(store.getRun(runId)!.status).toBe('stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      store.close();
    }
  }, 180_000);
});
