/**
 * The `iddpm` command end to end, as a real child process on a temp data directory: train a tiny run,
 * sample PNGs from its checkpoint, evaluate NLL, and reject bad input with messages that name the field.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeOwnPng, readPngText } from '../../src-main/imageio/png';
import { openStore } from '../../src-main/store';
import { spawn } from 'node:child_process';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin', 'iddpm.mjs');
const data = mkdtempSync(path.join(os.tmpdir(), 'iddpm-cli-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));

function iddpm(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, IDDPM_DATA: data } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('iddpm CLI', () => {
  let checkpoint = '';

  it('train --preset tiny-test writes checkpoints, previews and the config', () => {
    const r = iddpm('train', '--preset', 'tiny-test', '--steps', '5', '--data', data, '--run-id', 'tiny');
    expect(r.stderr).toMatch(/backend: wasm/);
    expect(r.code, r.stderr).toBe(0);
    const run = path.join(data, 'runs', 'tiny');
    expect(readdirSync(path.join(run, 'checkpoints'))).toEqual(['step-00000005.safetensors']);
    expect(existsSync(path.join(run, 'previews', 'step-00000005.png'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8')).model.imageSize).toBe(16);
    checkpoint = path.join(run, 'checkpoints', 'step-00000005.safetensors');
  });

  it('sample writes a grid and single PNGs that carry their settings', () => {
    const out = path.join(data, 'samples-ddim');
    const r = iddpm('sample', checkpoint, '--sampler', 'ddim', '--steps', '5', '--count', '3', '--seed', '7', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toEqual(['grid.png', 'manifest.json', 'sample-0000.png', 'sample-0001.png', 'sample-0002.png']);
    const png = readFileSync(path.join(out, 'sample-0001.png'));
    const img = decodeOwnPng(png);
    expect([img.width, img.height, img.channels]).toEqual([16, 16, 1]);
    const settings = JSON.parse(readPngText(png)['iddpm:settings']);
    expect(settings).toMatchObject({ sampler: 'ddim', steps: 5, respacing: 'ddim5', eta: 0, seed: 7, index: 1, checkpointStep: 5, weights: 'ema 0.9' });
    expect(settings.config.model.imageSize).toBe(16);
  });

  it('sample says which weights it used and why', () => {
    const r = iddpm('sample', checkpoint, '--steps', '2', '--count', '1', '--out', path.join(data, 's-why'));
    expect(r.code, r.stderr).toBe(0);
    // tiny-test warms its EMA up: after 5 steps it holds almost none of the initial weights.
    expect(r.stderr).toContain('weights: EMA 0.9 (holds <0.1% of the initial weights at step 5)');
  });

  it('--keep-checkpoints keeps the newest N and the best; a cold EMA makes sample default to the raw weights', () => {
    const cfg = path.join(data, 'cold.json');
    writeFileSync(cfg, JSON.stringify({ training: { emaRates: [0.99], emaWarmup: false } }));
    const t = iddpm('train', '--preset', 'tiny-test', '--config', cfg, '--steps', '3', '--checkpoint-every', '1', '--keep-checkpoints', '2', '--data', data, '--run-id', 'cold');
    expect(t.code, t.stderr).toBe(0);
    const dir = path.join(data, 'runs', 'cold', 'checkpoints');
    // Steps 1, 2, 3 written; the only NLL measured is at the last step (3), so the best is the newest.
    expect(readdirSync(dir).filter((f) => f.endsWith('.safetensors'))).toEqual(['step-00000002.safetensors', 'step-00000003.safetensors']);
    const r = iddpm('sample', path.join(dir, 'step-00000003.safetensors'), '--steps', '2', '--count', '1', '--out', path.join(data, 's-cold'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('weights: raw weights: the EMA 0.99 still holds 97% of the random initial weights at step 3 (above 10%)');
    const manifest = JSON.parse(readFileSync(path.join(data, 's-cold', 'manifest.json'), 'utf8'));
    expect(manifest.weights).toBe('raw');
  });

  it('the same seed gives the same images', () => {
    const a = path.join(data, 's-a');
    const b = path.join(data, 's-b');
    for (const out of [a, b]) expect(iddpm('sample', checkpoint, '--steps', '3', '--count', '2', '--seed', '3', '--out', out).code).toBe(0);
    expect(decodeOwnPng(readFileSync(path.join(a, 'grid.png'))).pixels).toEqual(decodeOwnPng(readFileSync(path.join(b, 'grid.png'))).pixels);
  });

  it('--skip-fraction 0 draws what no flag draws; 0.5 starts half-way down the chain and says so in the manifest', () => {
    const draw = (out: string, ...extra: string[]) => {
      const r = iddpm('sample', checkpoint, '--steps', '3', '--count', '2', '--seed', '5', '--out', out, ...extra);
      expect(r.code, r.stderr).toBe(0);
      return { pixels: decodeOwnPng(readFileSync(path.join(out, 'grid.png'))).pixels, manifest: JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) };
    };
    const plain = draw(path.join(data, 'skip-none'));
    const zero = draw(path.join(data, 'skip-0'), '--skip-fraction', '0');
    const half = draw(path.join(data, 'skip-half'), '--skip-fraction', '0.5');
    expect(zero.pixels).toEqual(plain.pixels);
    // tiny-test has T = 50: the whole chain starts at step 49; skipping half keeps steps 0…24.
    expect(plain.manifest).toMatchObject({ skipFraction: 0, startTimestep: 49, steps: 3 });
    expect(zero.manifest).toMatchObject({ skipFraction: 0, startTimestep: 49, steps: 3 });
    expect(half.manifest).toMatchObject({ skipFraction: 0.5, startTimestep: 24, steps: 3 });
    expect(half.pixels).not.toEqual(plain.pixels);
  });

  it('refuses a --skip-fraction out of range, or one that leaves too few steps, before drawing anything', () => {
    const out = path.join(data, 'skip-refused');
    const refused = (args: string[], message: string) => {
      const r = iddpm('sample', checkpoint, '--count', '1', '--out', out, ...args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
    };
    const range = '--skip-fraction (skip the first fraction f ∈ [0, 1) of the reverse process';
    refused(['--skip-fraction', '1'], `${range}, the paper's Fig. 3: sampling starts from noise at step ⌊(1−f)·T⌋) must be at most 0.999, got 1: 0 runs the whole reverse process`);
    refused(['--skip-fraction', 'half'], `${range}`);
    refused(['--skip-fraction', '0.99'], "--skip-fraction 0.99 leaves no step of the model's T = 50: use a smaller fraction");
    refused(['--skip-fraction', '0.5', '--steps', '30'], '--steps 30 is more than the 25 steps left after --skip-fraction 0.5 (⌊(1−f)·T⌋, T = 50): give at most 25');
    refused(['--skip-fraction', '0.5', '--sampler', 'ddim', '--steps', '10'], '--steps 10 cannot be used with DDIM on the 25 steps left after --skip-fraction 0.5');
    expect(existsSync(out)).toBe(false);
  });

  it('eval reports bits/dim and writes the per-t terms as CSV', () => {
    const csv = path.join(data, 'nll.csv');
    const r = iddpm('eval', checkpoint, '--images', '2', '--batch', '2', '--csv', csv);
    expect(r.code, r.stderr).toBe(0);
    const bpd = Number(/NLL ([\d.]+) bits\/dim/.exec(r.stdout)?.[1]);
    expect(bpd).toBeGreaterThan(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('t,vb_bits_per_dim,eps_mse,xstart_mse');
    expect(lines).toHaveLength(51);
    const terms = lines.slice(1).map((l) => Number(l.split(',')[1]));
    expect(terms.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
  });

  it('rejects a bad option value naming the field and the fix, and writes no run', () => {
    const r = iddpm('train', '--preset', 'tiny-test', '--channels', '48', '--data', data, '--run-id', 'bad');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/model\.channels/);
    expect(r.stderr).toMatch(/multiple of 32/);
    expect(existsSync(path.join(data, 'runs', 'bad'))).toBe(false);
  });

  it('names a corrupt checkpoint file', () => {
    const bad = path.join(data, 'broken.safetensors');
    writeFileSync(bad, Buffer.from([1, 2, 3]));
    const r = iddpm('sample', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toMatch(/not a valid safetensors checkpoint/);
  });

  it('runs lists the runs with status and step', () => {
    const r = iddpm('runs', '--json', '--data', data);
    expect(r.code, r.stderr).toBe(0);
    const runs = JSON.parse(r.stdout);
    expect(runs).toContainEqual(expect.objectContaining({ id: 'tiny', status: 'done', step: 5 }));
    expect(iddpm('runs', '--data', data).stdout).toMatch(/^tiny\s+tiny-test tiny\s+done\s+5\/5/m);
  });

  it('when the worker of `iddpm train` dies, the command says so, exits non-zero, and `iddpm resume` finishes the run', async () => {
    const child = spawn(process.execPath, [bin, 'train', '--preset', 'tiny-test', '--steps', '40', '--eval-every', '0', '--preview-every', '0', '--checkpoint-every', '3', '--data', data, '--run-id', 'victim'], {
      env: { ...process.env, IDDPM_DATA: data },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const store = openStore(path.join(data, 'studio.db'));
    let pid: number | null = null;
    for (let i = 0; i < 1200 && !pid; i++) {
      const run = store.getRun('victim');
      if (run?.workerPid && store.listCheckpoints('victim').length) pid = run.workerPid;
      else await new Promise((r) => setTimeout(r, 100));
    }
    store.close();
    expect(pid).toBeTruthy();
    process.kill(pid!, 'SIGKILL');
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/run victim was interrupted: the worker process was killed \(SIGKILL/);
    expect(stderr).toMatch(/resume with: iddpm resume victim/);
    const r = iddpm('resume', 'victim', '--data', data);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resuming run victim from the checkpoint at step \d+/);
    expect(r.stdout).toMatch(/run victim finished at step 40/);
  });

  it('unknown commands and options are usage errors', () => {
    expect(iddpm('fly').code).toBe(2);
    const r = iddpm('sample', checkpoint, '--stepz', '3');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option --stepz/);
  });
});
