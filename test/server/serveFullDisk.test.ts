/**
 * `iddpm serve` on a data folder whose disk fills up under a training run (a real 48 MB tmpfs): the
 * server stays up and answers, the run shows failed with "the disk is full: free space and resume", and
 * resume over the API finishes it once space is freed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import type { RunSummary } from '../../src-shared/protocol';
import { mountSmallDisk } from '../runs/smallDisk';
import { mustConnect } from './helpers';

const root = path.resolve(import.meta.dirname, '..', '..');
const disk = mountSmallDisk(48 << 20);
afterAll(() => {
  if (typeof disk !== 'string') disk.unmount();
});

beforeAll(() => {
  if (typeof disk === 'string') return;
  if (!existsSync(path.join(root, 'out', 'renderer', 'index.html'))) {
    const b = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('building the renderer failed');
  }
}, 180_000);

describe.skipIf(typeof disk === 'string')(`iddpm serve on a disk that fills up${typeof disk === 'string' ? ` (skipped: ${disk})` : ''}`, () => {
  it('keeps answering; the run fails with the disk-full reason and resumes after space is freed', async () => {
    if (typeof disk === 'string') return;
    const data = path.join(disk.dir, 'serve');
    const child = spawn(process.execPath, [path.join(root, 'bin', 'iddpm.mjs'), 'serve', '--port', '0', '--data', data], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 1200 && !/token=\S+/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      const url = new URL(/open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out)![1]);
      const ws = await mustConnect(Number(url.port), url.searchParams.get('token')!);
      const base = getPreset('tiny-test').config;
      const config = { ...base, training: { ...base.training, maxSteps: 12 }, intervals: { ...base.intervals, checkpointEvery: 4, evalEvery: 0, previewEvery: 0, gnsEvery: 0 } };
      const created = await ws.call('createRun', [{ config, id: 'filling', start: true }]);
      expect(created, JSON.stringify(created)).toHaveProperty('result');
      const run = async () => ((await ws.call('listRuns', [])).result as RunSummary[]).find((r) => r.id === 'filling')!;
      const until = async (ok: (r: RunSummary) => boolean, what: string) => {
        for (let i = 0; i < 2400; i++) {
          const r = await run();
          if (ok(r)) return r;
          await new Promise((res) => setTimeout(res, 50));
        }
        throw new Error(`timed out waiting for ${what}:\n${out}`);
      };
      await until((r) => r.lastCheckpointStep === 4, 'the first checkpoint');
      disk.fill();
      const failed = await until((r) => r.status !== 'running' && r.status !== 'queued', 'the run to end');
      expect([failed.status, failed.reason]).toEqual(['failed', 'the disk is full: free space and resume']);
      expect(child.exitCode).toBeNull();
      expect((await ws.call('systemInfo', [])).result).toMatchObject({ dataDir: data });

      disk.free();
      expect(await ws.call('resumeRun', ['filling'])).toHaveProperty('result');
      const done = await until((r) => r.status !== 'running' && r.status !== 'queued', 'the resumed run to end');
      expect([done.status, done.step, done.lastCheckpointStep]).toEqual(['done', 12, 12]);
      ws.close();
    } finally {
      disk.free();
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
