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

  it('--sweep-steps measures each K and the full chain with ancestral and DDIM, prints a table, writes sweep.json and sweep.csv', () => {
    const out = path.join(data, 'sweep');
    const r = iddpm('eval', checkpoint, '--metrics', 'fid,kid', '--sweep-steps', '5,10', '--count', '8', '--images', '64', '--out', out, '--data', data);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/sweep: 6 points \(5, 10, 50 steps × ancestral, DDIM η = 0\), 8 samples each/);
    expect(r.stdout).toMatch(/^\(measured on the studio's MNIST \(bundled digits\) classifier features, not Inception features: not Inception FID\/IS, not comparable with published values\)\n8 samples per point; classifier held-out accuracy \d+\.\d%\nsampler +steps +fid +kid_mean +kid_std\n/);
    expect(r.stdout).toMatch(/\nancestral +5 +\d+\.\d{3} /);
    expect(r.stdout).toMatch(/\nddim +50 \(T\) +\d+\.\d{3} /);
    const csv = readFileSync(path.join(out, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('sampler,steps,full_chain,fid,kid_mean,kid_std');
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      'ancestral,5,false', 'ddim,5,false', 'ancestral,10,false', 'ddim,10,false', 'ancestral,50,true', 'ddim,50,true',
    ]);
    const sweep = JSON.parse(readFileSync(path.join(out, 'sweep.json'), 'utf8')) as { caveat: string; diffusionSteps: number; points: { sampler: string; steps: number; dir: string; report: { fid: number; generatedCount: number } }[] };
    expect(sweep.caveat).toMatch(/not comparable with published values/);
    expect(sweep.diffusionSteps).toBe(50);
    expect(sweep.points).toHaveLength(6);
    for (const p of sweep.points) {
      expect(Number.isFinite(p.report.fid)).toBe(true);
      expect(p.report.generatedCount).toBe(8);
      expect(existsSync(path.join(out, p.dir, 'quality.json'))).toBe(true);
    }
    // The CSV carries the JSON's numbers at full precision.
    expect(Number(csv[1].split(',')[3])).toBe(sweep.points[0].report.fid);
    // DDIM at K = T with η = 0 and ancestral at K = T are different samplers: different numbers.
    expect(sweep.points[4].report.fid).not.toBe(sweep.points[5].report.fid);
  });

  it('--sweep-steps refuses K above T, repeats, non-numbers, a K DDIM cannot stride and --sampler, naming the flag, before any work', () => {
    const refused = (flags: string[], message: RegExp) => {
      const out = path.join(data, 'refused-sweep');
      const r = iddpm('eval', checkpoint, '--metrics', 'fid', '--count', '8', '--out', out, '--data', data, ...flags);
      expect(r.code, r.stdout).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(existsSync(out)).toBe(false);
    };
    refused(['--sweep-steps', '10,60'], /--sweep-steps: 60 is more than the model's diffusion steps T = 50; use at most 50/);
    refused(['--sweep-steps', '10,10'], /--sweep-steps: 10 is given twice/);
    refused(['--sweep-steps', '10,x'], /--sweep-steps: 'x' is not a whole number of steps/);
    refused(['--sweep-steps', '0'], /--sweep-steps: 0 is not a positive whole number/);
    refused(['--sweep-steps', '30'], /--sweep-steps: DDIM cannot take exactly 30 of 50 steps/);
    refused(['--sweep-steps', '10', '--sampler', 'ddim'], /--sampler cannot be used with --sweep-steps/);
    refused(['--sweep-steps', '10', '--skip-fraction', '0.5', '--steps', '4'], /--steps cannot be used with --sweep-steps/);
    refused(['--sweep-steps', '30', '--skip-fraction', '0.5'], /--sweep-steps: 30 is more than the 25 steps left after skipping \(T = 50\)/);
  });

  it('--help says what a sweep measures', () => {
    const r = iddpm('eval', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--sweep-steps +with --metrics: quality vs sampling steps \(paper Fig\. 8\).*respaced ancestral sampling and with DDIM \(η = 0\)/);
  });
});
