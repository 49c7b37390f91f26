/**
 * `iddpm eval CHECKPOINT --metrics …` as a real child process: a tiny run on the bundled digits (16 px),
 * then its sample-quality metrics, which train and cache the dataset's classifier (full default training
 * at 16 px) and print every number under its caveat.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin', 'iddpm.mjs');
const data = mkdtempSync(path.join(os.tmpdir(), 'iddpm-cli-quality-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));

function iddpm(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 400_000, env: { ...process.env, IDDPM_DATA: data } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('iddpm eval --metrics', () => {
  let checkpoint = '';

  it('a tiny run gives a checkpoint', () => {
    const r = iddpm('train', '--preset', 'tiny-test', '--steps', '2', '--data', data, '--run-id', 'q');
    expect(r.code, r.stderr).toBe(0);
    checkpoint = path.join(data, 'runs', 'q', 'checkpoints', 'step-00000002.safetensors');
    expect(existsSync(checkpoint)).toBe(true);
  });

  it('trains the classifier on first use, prints the metrics under their caveat and writes quality.json', () => {
    const out = path.join(data, 'quality');
    const r = iddpm('eval', checkpoint, '--metrics', 'fid,kid,pr,is', '--count', '10', '--steps', '2', '--images', '100', '--out', out, '--data', data);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/classifier trained and cached: .*classifiers\/mnist-bundled-16px-1ch\.safetensors/);
    expect(r.stdout).toMatch(/^\(measured on the studio's MNIST \(bundled digits\) classifier features, not Inception features: not Inception FID\/IS, not comparable with published values\)\n10 samples against 100 held-out images; classifier held-out accuracy (9\d|100)\.\d%\n/);
    expect(r.stdout).toMatch(/\nFID {8}\d+\.\d{3}\n/);
    expect(r.stdout).toMatch(/\nKID .* \(10 subsets of 5\)\n/);
    expect(r.stdout).toMatch(/\nprecision  [01]\.\d{3}   recall [01]\.\d{3} \(k = 3\)\n/);
    expect(r.stdout).toMatch(/\nclasses +\d+ of 10 covered/);
    const saved = JSON.parse(readFileSync(path.join(out, 'quality.json'), 'utf8')) as { report: { generatedCount: number } };
    expect(saved.report.generatedCount).toBe(10);

    const again = iddpm('eval', checkpoint, '--metrics', 'fid', '--count', '10', '--steps', '2', '--out', path.join(data, 'q2'), '--data', data);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/classifier trained/);
    expect(again.stdout).not.toMatch(/KID/);
  });

  it('refuses an unknown metric, naming it and the choices', () => {
    const r = iddpm('eval', checkpoint, '--metrics', 'fid,lpips', '--data', data);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--metrics: 'lpips' is not a metric; use a comma-separated list of fid, kid, pr, is \(or all\)/);
  });
});
