/**
 * A data folder on a read-only disk or a full one, on a real small file system (a tmpfs, remounted
 * read-only or filled to the last byte): opening and writing say "read-only" or "the disk is full" with
 * the fix, never the misleading codes (ENOENT from mkdir, EROFS, SQLITE_READONLY, SQLITE_IOERR_SHMSIZE).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRunService } from '../../src-main/runs/runService';
import { openStore, StoreError, type Store } from '../../src-main/store';
import { mountSmallDisk, type SmallDisk } from '../runs/smallDisk';
import { rows, smallConfig } from './helpers';

const CODES = /ENOENT|EROFS|EACCES|ENOSPC|SQLITE_/;
const disk = mountSmallDisk(4 << 20);
const why = typeof disk === 'string' ? ` (skipped: ${disk})` : '';
afterAll(() => {
  if (typeof disk !== 'string') disk.unmount();
});

function caught(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return e as StoreError;
  }
  throw new Error('expected a StoreError');
}

describe.skipIf(typeof disk === 'string')(`storage problems on a real small disk${why}`, () => {
  const d = disk as SmallDisk;
  let open: Store | undefined;
  afterEach(() => {
    open?.close();
    open = undefined;
    try {
      d.writable();
    } catch {
      // already writable
    }
    d.free();
  });

  it('a read-only data folder, existing or still to be created, is named read-only', async () => {
    const data = path.join(d.dir, 'ro');
    openStore(path.join(data, 'studio.db')).close();
    d.readOnly();
    const existing = caught(() => openStore(path.join(data, 'studio.db')));
    expect(existing.code).toBe('not-writable');
    expect(existing.message).toBe(
      `cannot open the studio database ${path.join(data, 'studio.db')}: the data folder ${data} is read-only. Choose a writable data folder (--data DIR), or make this one writable.`,
    );
    const fresh = caught(() => openStore(path.join(d.dir, 'new', 'studio.db')));
    expect(fresh.code).toBe('not-writable');
    expect(fresh.message).toContain(`${d.dir} is read-only, so the folder ${path.join(d.dir, 'new')} cannot be created`);
    for (const e of [existing, fresh]) expect(e.message).not.toMatch(CODES);
    // The run service (serve, the app, the CLI) says the same.
    await expect(createRunService({ dataDir: path.join(d.dir, 'new2'), face: 'cli' })).rejects.toThrow(/is read-only, so the folder .*new2 cannot be created\. Choose another data folder/);
  });

  it('a full disk is named at open and on writes, and what was stored stays', () => {
    const data = path.join(d.dir, 'full');
    mkdirSync(data, { recursive: true });
    open = openStore(path.join(data, 'studio.db'));
    open.createRun({ id: 'r', name: 'r', config: smallConfig() });
    open.appendStepMetrics('r', rows(1, 10));
    open.close();
    open = undefined;
    // Opening on a full disk: SQLite cannot size its shared-memory file (SQLITE_IOERR_SHMSIZE).
    d.fill();
    const atOpen = caught(() => openStore(path.join(data, 'studio.db')));
    expect(atOpen.code).toBe('disk-full');
    expect(atOpen.message).toMatch(/: the disk is full: no space is left for the data folder .*\. Free some disk space and try again\.$/);
    expect(atOpen.message).not.toMatch(CODES);
    d.free();

    open = openStore(path.join(data, 'studio.db'));
    d.fill();
    // Writes fail as "the disk is full" (SQLITE_FULL, or an I/O error once the WAL cannot grow).
    let e: StoreError | undefined;
    for (let from = 11; !e && from < 200_000; from += 2000) {
      try {
        open.appendStepMetrics('r', rows(from, from + 1999));
      } catch (err) {
        e = err as StoreError;
      }
    }
    expect(e).toBeInstanceOf(StoreError);
    expect(e!.code).toBe('disk-full');
    expect(e!.message).toMatch(/the disk is full: no space is left for the data folder/);
    expect(e!.message).not.toMatch(CODES);
    d.free();
    expect(open.readSeriesRaw('r', 'loss').step.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(open.db.pragma('integrity_check', { simple: true })).toBe('ok');
    open.appendStepMetrics('r', rows(300_000, 300_001)); // and writes work again
  });
});
