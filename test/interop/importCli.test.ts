/**
 * `iddpm import` end to end as a real child process: the reference fixture run becomes a studio run that
 * `iddpm runs` lists and `iddpm sample` draws from; missing flags are named and nothing is created.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src-main/store';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin', 'iddpm.mjs');
const LOGDIR = path.join(root, 'test', 'fixtures', 'reference', 'logdir');
const data = mkdtempSync(path.join(os.tmpdir(), 'iddpm-import-cli-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));

function iddpm(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, IDDPM_DATA: data } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('iddpm export-reference', () => {
  it('refuses a data folder without a studio instead of creating an empty one', () => {
    const missing = path.join(data, 'mistyped');
    const r = iddpm('export-reference', 'some-run', '--out', path.join(data, 'export'), '--data', missing);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no run 'some-run': ${missing} holds no studio data yet (no studio.db)`);
    expect(existsSync(missing)).toBe(false);
  });
});

describe('iddpm import', () => {
  it('names the flags a checkpoint lacks, exits non-zero and creates no run', () => {
    const r = iddpm('import', LOGDIR);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/num_heads, diffusion_steps, noise_schedule: not stored in a checkpoint/);
    const store = openStore(path.join(data, 'studio.db'));
    expect(store.listRuns()).toHaveLength(0);
    store.close();
  });

  it('imports the log directory, and the run samples from the CLI', () => {
    const r = iddpm('import', LOGDIR, '--flags', '--num_heads 2 --diffusion_steps 50 --noise_schedule cosine', '--name', 'from the cluster', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { runId: string; checkpoints: number; metricRows: number; sampleSets: number };
    expect(result).toMatchObject({ checkpoints: 1, metricRows: 4, sampleSets: 1 });
    const runs = JSON.parse(iddpm('runs', '--json').stdout) as { id: string; name: string; step: number; status: string }[];
    expect(runs).toEqual([expect.objectContaining({ id: result.runId, name: 'from the cluster', step: 4, status: 'stopped' })]);

    const store = openStore(path.join(data, 'studio.db'));
    const [ckpt] = store.listCheckpoints(result.runId);
    store.close();
    const out = path.join(data, 'drawn');
    const s = iddpm('sample', ckpt.path, '--sampler', 'ddim', '--steps', '2', '--count', '2', '--out', out);
    expect(s.code, s.stderr).toBe(0);
    expect(readdirSync(out).filter((f) => f.startsWith('sample-'))).toHaveLength(2);

    // …and goes back out for the cluster, naming what the reference's flags cannot say (8 px, channel_mult (1)).
    const exportDir = path.join(data, 'handoff');
    const e = iddpm('export-reference', result.runId, '--out', exportDir, '--no-images');
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/note: model\.imageSize 8: the reference supports 32, 64, 256/);
    expect(readdirSync(exportDir).sort()).toEqual(['README.md', 'ema_0.9999_000004.pt', 'launch.sh', 'model000004.pt', 'opt000004.pt', 'studio-export.json']);
  });
});
