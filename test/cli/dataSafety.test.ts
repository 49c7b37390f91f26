/**
 * The `iddpm` command as a real child process, on the inputs and storage problems that once cost data:
 * a run id that names the data folder, and (see below) a data folder that cannot be written.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin', 'iddpm.mjs');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'iddpm-cli-safety-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function iddpm(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('iddpm train --run-id', () => {
  it("refuses '..' and other ids that are not a plain folder name, before touching the data folder", () => {
    const data = path.join(scratch, 'ids');
    rmSync(data, { recursive: true, force: true });
    // An existing data folder with the user's own file in it.
    const r0 = iddpm('runs', '--data', data);
    expect(r0.code, r0.stderr).toBe(0);
    writeFileSync(path.join(data, 'mine.txt'), 'keep me');
    const before = readdirSync(data).sort();
    for (const id of ['..', '../elsewhere', '.hidden', '-rf']) {
      const r = iddpm('train', '--preset', 'tiny-test', '--steps', '1', '--data', data, `--run-id=${id}`);
      expect(r.code, `${id}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^iddpm train: --run-id '.*' is not allowed: use letters, digits/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    expect(readdirSync(data).sort()).toEqual(before);
  });
});
