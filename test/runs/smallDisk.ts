/**
 * A real small file system for storage-failure tests: a tmpfs mounted on a temp folder (Linux, as root).
 * `fill()` writes a filler file until the disk says ENOSPC; `free()` deletes it; `readOnly()` remounts it
 * read-only. Where mounting is impossible (not root, not Linux) `mountSmallDisk` returns the reason
 * instead, and the tests that need it are skipped with that reason.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SmallDisk {
  dir: string;
  fill(): number;
  free(): void;
  readOnly(): void;
  writable(): void;
  unmount(): void;
}

function sh(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? null : `${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`;
}

export function mountSmallDisk(bytes: number): SmallDisk | string {
  if (process.platform !== 'linux') return 'needs Linux (tmpfs)';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-disk-'));
  const failed = sh('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  if (failed) {
    rmdirSync(dir);
    return `cannot mount a small tmpfs (${failed}); run as root`;
  }
  const filler = path.join(dir, 'filler');
  const remount = (mode: 'ro' | 'rw') => {
    const err = sh('mount', ['-o', `remount,${mode}`, dir]);
    if (err) throw new Error(err);
  };
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 1);
      let written = 0;
      try {
        for (;;) written += writeSync(fd, chunk, 0, chunk.length);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
      // The last partial page, byte by byte, so not even a small write fits.
      try {
        for (;;) written += writeSync(fd, chunk, 0, 1);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free: () => rmSync(filler, { force: true }),
    readOnly: () => remount('ro'),
    writable: () => remount('rw'),
    unmount() {
      sh('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
