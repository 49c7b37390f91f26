/**
 * The `iddpm` command as a real child process, on the inputs and storage problems that once cost data:
 * a run id that names the data folder, and (see below) a data folder that cannot be written.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mountSmallDisk } from '../runs/smallDisk';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin', 'iddpm.mjs');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'iddpm-cli-safety-'));
const disk = mountSmallDisk(48 << 20);
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  if (typeof disk !== 'string') disk.unmount();
});
const STACK = /\n\s+at /;
const CODES = /ENOENT|EROFS|ENOSPC|SQLITE_/;

function iddpm(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('iddpm train --run-id', () => {
  it("refuses '..' and other ids that are not a plain folder name, before touching the data folder", () => {
    const data = path.join(scratch, 'ids');
    rmSync(data, { recursive: true, force: true });
    // An existing data folder with the user's own file in it.
    mkdirSync(data, { recursive: true });
    writeFileSync(path.join(data, 'mine.txt'), 'keep me');
    const before = readdirSync(data).sort();
    for (const id of ['..', '../elsewhere', '.hidden', '-rf']) {
      const r = iddpm('train', '--preset', 'tiny-test', '--steps', '1', '--data', data, `--run-id=${id}`);
      expect(r.code, `${id}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^iddpm train: --run-id '.*' is not allowed: use letters, digits/);
      expect(r.stderr).not.toMatch(STACK);
    }
    expect(readdirSync(data).sort()).toEqual(before);
  });
});

describe.skipIf(typeof disk === 'string')(`iddpm on a disk that is full or read-only${typeof disk === 'string' ? ` (skipped: ${disk})` : ''}`, () => {
  it('train on a disk that fills up says the disk is full, exits 1 without a stack trace; resume finishes after space is freed', async () => {
    if (typeof disk === 'string') return;
    const data = path.join(disk.dir, 'train');
    const child = spawn(process.execPath, [bin, 'train', '--preset', 'tiny-test', '--steps', '12', '--checkpoint-every', '4', '--eval-every', '0', '--preview-every', '0', '--gns-every', '0', '--data', data, '--run-id', 'filling']);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const first = path.join(data, 'runs', 'filling', 'checkpoints', 'step-00000004.safetensors');
    for (let i = 0; i < 2400 && !existsSync(first); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(first), stderr).toBe(true);
    disk.fill();
    try {
      expect(await exited).toBe(1);
      expect(stderr).toMatch(/run filling failed: the disk is full: free space and resume\n/);
      expect(stderr).not.toMatch(STACK);
    } finally {
      disk.free();
    }
    const r = iddpm('resume', 'filling', '--data', data);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/run filling finished at step 12/);
  });

  it('eval names a read-only folder for the CSV, before any image is evaluated', () => {
    if (typeof disk === 'string') return;
    const data = path.join(scratch, 'ev');
    const t = iddpm('train', '--preset', 'tiny-test', '--steps', '2', '--checkpoint-every', '2', '--eval-every', '0', '--preview-every', '0', '--gns-every', '0', '--data', data, '--run-id', 'ev');
    expect(t.code, t.stderr).toBe(0);
    const csvDir = path.join(disk.dir, 'csv');
    mkdirSync(csvDir);
    disk.readOnly();
    try {
      const csv = path.join(csvDir, 'nll.csv');
      const r = iddpm('eval', path.join(data, 'runs', 'ev', 'checkpoints', 'step-00000002.safetensors'), '--images', '2', '--batch', '2', '--csv', csv);
      // The CSV's folder is checked before the model loads (a usage error), so no evaluation is wasted.
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(csvDir);
      expect(r.stderr).toMatch(/read-only/);
      expect(r.stderr).not.toMatch(CODES);
      expect(r.stderr).not.toMatch(STACK);
    } finally {
      disk.writable();
    }
  });

  it('runs and train on a read-only data folder name it read-only', () => {
    if (typeof disk === 'string') return;
    const data = path.join(disk.dir, 'ro');
    const t = iddpm('train', '--preset', 'tiny-test', '--steps', '1', '--eval-every', '0', '--preview-every', '0', '--gns-every', '0', '--data', data);
    expect(t.code, t.stderr).toBe(0);
    disk.readOnly();
    try {
      const runs = iddpm('runs', '--data', data);
      expect(runs.code).toBe(1);
      expect(runs.stderr).toContain(`the data folder ${data} is read-only`);
      const outputs = [runs];
      // train checks its data folder before it opens anything: a usage error naming the folder.
      for (const dir of [data, path.join(data, 'new')]) {
        const r = iddpm('train', '--preset', 'tiny-test', '--steps', '1', '--data', dir);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`--data ${dir} cannot be written: the folder ${data} is on a read-only file system`);
        outputs.push(r);
      }
      for (const r of outputs) {
        expect(r.stderr).not.toMatch(CODES);
        expect(r.stderr).not.toMatch(STACK);
      }
    } finally {
      disk.writable();
    }
  });
});
