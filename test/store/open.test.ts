import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { openStore, SCHEMA_VERSION, StoreError } from '../../src-main/store';
import { MIGRATIONS, migrate, type Migration } from '../../src-main/store/migrations';
import { smallConfig, tempDir, tempStore, type TempStore } from './helpers';

const EXPECTED_TABLES = [
  'checkpoints',
  'evaluations',
  'gns_points',
  'jobs',
  'quality_results',
  'runs',
  'sample_images',
  'sample_sets',
  'sampler_weights',
  'step_metrics',
  'studies',
  'vlb_snapshots',
];

let t: TempStore | undefined;
const cleanups: (() => void)[] = [];
afterEach(() => {
  t?.cleanup();
  t = undefined;
  while (cleanups.length) cleanups.pop()!();
});

function expectStoreError(fn: () => unknown, code: string, ...fragments: (string | RegExp)[]): StoreError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a StoreError').toBeInstanceOf(StoreError);
  const err = caught as StoreError;
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toMatch(f);
  return err;
}

describe('openStore: schema and connection settings', () => {
  it('creates every table on an empty file and records the schema version', () => {
    t = tempStore();
    expect(t.store.schemaVersion).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    const tables = t.store.db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
      .pluck()
      .all();
    expect(tables).toEqual(EXPECTED_TABLES);
  });

  it('runs in WAL mode with foreign keys on, synchronous NORMAL and a busy timeout', () => {
    t = tempStore();
    expect(t.store.journalMode).toBe('wal');
    expect(t.store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(t.store.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(t.store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    t.store.createRun({ id: 'r', name: 'r', config: smallConfig() });
    // A second connection (another process in the studio) sees WAL as the file's mode too.
    const other = new Database(t.file, { readonly: true });
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(other.prepare('SELECT id FROM runs').pluck().all()).toEqual(['r']);
    other.close();
  });

  it('reopening is idempotent: no migration runs twice and the data stays', () => {
    t = tempStore();
    t.store.createRun({ id: 'kept', name: 'kept', config: smallConfig() });
    const store = t.reopen();
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    expect(store.getRun('kept')?.name).toBe('kept');
    // migrate() on an up-to-date database applies nothing.
    expect(migrate(store.db, t.file)).toEqual([]);
  });

  it('applies a later migration on reopen, in order, inside a transaction', () => {
    t = tempStore();
    t.store.createRun({ id: 'old', name: 'old', config: smallConfig() });
    const v2: Migration = { name: 'add notes', up: (db) => db.exec('ALTER TABLE runs ADD COLUMN notes TEXT') };
    const store = t.reopen({ migrations: [...MIGRATIONS, v2] });
    expect(store.schemaVersion).toBe(SCHEMA_VERSION + 1);
    expect(store.db.prepare('SELECT notes FROM runs WHERE id = ?').pluck().get('old')).toBeNull();

    // A failing migration rolls back completely and leaves the version where it was.
    const bad: Migration = { name: 'broken', up: (db) => (db.exec('CREATE TABLE half (x)'), db.exec('SELECT * FROM no_such_table')) };
    expect(() => t!.reopen({ migrations: [...MIGRATIONS, v2, bad] })).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 2} \\(broken\\) failed`));
    const after = new Database(t.file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    expect(after.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'half'`).pluck().get()).toBe(0);
    after.close();
    t.store = openStore(t.file, { migrations: [...MIGRATIONS, v2] }); // so cleanup has an open store to close
  });

  it('a table-rebuilding migration runs with foreign keys off and keeps children intact', () => {
    t = tempStore();
    t.store.createRun({ id: 'p', name: 'p', config: smallConfig() });
    t.store.appendStepMetrics('p', [{ step: 1, time: 1, loss: 1, mse: 1, vb: null, gradNorm: 1, lr: 1, samplesPerSec: 1 }]);
    const rebuild = (copyKeys: boolean): Migration => ({
      name: 'rebuild runs',
      rebuildsTables: true,
      up: (db) => {
        const ddl = db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'runs'`).pluck().get() as string;
        db.exec(copyKeys ? ddl.replace('CREATE TABLE runs', 'CREATE TABLE runs_new') : 'CREATE TABLE runs_new AS SELECT * FROM runs');
        if (copyKeys) db.exec('INSERT INTO runs_new SELECT * FROM runs');
        db.exec('DROP TABLE runs'); // with enforcement on this would cascade into step_metrics
        db.exec('ALTER TABLE runs_new RENAME TO runs');
      },
    });
    // A rebuild that loses the primary key leaves the children's foreign keys pointing at nothing
    // usable: the check before commit catches it and everything rolls back.
    expect(() => t!.reopen({ migrations: [...MIGRATIONS, rebuild(false)] })).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1} \\(rebuild runs\\) failed: foreign key mismatch`));
    const store = (t.store = openStore(t.file, { migrations: [...MIGRATIONS, rebuild(true)] }));
    expect(store.schemaVersion).toBe(SCHEMA_VERSION + 1);
    expect(store.getRun('p')?.name).toBe('p');
    expect(store.db.prepare('SELECT count(*) FROM step_metrics').pluck().get()).toBe(1);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.deleteRun('p')).toBe(true);
    expect(store.db.prepare('SELECT count(*) FROM step_metrics').pluck().get()).toBe(0);
  });

  it('refuses a database written by a newer schema, naming both versions', () => {
    t = tempStore();
    t.store.db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    t.store.close();
    expectStoreError(() => openStore(t!.file), 'newer-schema', t.file, new RegExp(`schema version ${SCHEMA_VERSION + 5}`), /newer iddpm-studio/);
    t.store = openStore(t.file, { migrations: [...MIGRATIONS, ...Array.from({ length: 5 }, () => ({ name: 'noop', up: () => {} }))] });
  });

  it('creates missing parent folders', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const store = openStore(join(dir, 'a', 'b', 'studio.db'));
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    store.close();
  });
});

describe('openStore: errors that name the file and the fix', () => {
  it('a corrupt file ("file is not a database")', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'studio.db');
    writeFileSync(file, Buffer.from('this is not sqlite at all, just some garbage bytes '.repeat(200)));
    const err = expectStoreError(() => openStore(file), 'corrupt', file, /file is not a database/, /Move it aside/);
    expect(err.file).toBe(file);
  });

  it('a file whose header is SQLite but whose pages are garbage', () => {
    t = tempStore();
    t.store.createRun({ id: 'r', name: 'r', config: smallConfig() });
    const file = t.file;
    t.store.close();
    const bytes = readFileSync(file);
    bytes.fill(0x5a, 100); // keep the 100-byte header, trash every page
    writeFileSync(file, bytes);
    expectStoreError(() => openStore(file), 'corrupt', file, /malformed|not a database/, /Move it aside/);
    t.store = openStore(join(t.dir, 'fresh.db'));
  });

  it('a data folder whose parent is a file (ENOTDIR)', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const file = join(blocker, 'data', 'studio.db');
    expectStoreError(() => openStore(file), 'not-a-directory', file, `${blocker} is a file, not a folder`, /--data DIR/);
  });

  it('a path that is a folder', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'studio.db');
    mkdirSync(file);
    expectStoreError(() => openStore(file), 'is-a-directory', file, /is a folder, not a database file/);
  });

  it('a folder that is not writable (chmod 500; as an unprivileged user, since root ignores modes)', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    chmodSync(dir, 0o755);
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    const file = join(ro, 'studio.db');
    let result: { code?: string; message: string };
    if (process.getuid?.() === 0) {
      // Root bypasses permission bits, so open the store from a child process running as nobody.
      const script = join(dir, 'open.mts');
      writeFileSync(
        script,
        `import { openStore } from ${JSON.stringify(resolve('src-main/store/index.ts'))};
         try { openStore(process.argv[2]); console.log(JSON.stringify({ message: 'opened' })); }
         catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`,
      );
      chmodSync(script, 0o644);
      const r = spawnSync(process.execPath, ['--import', 'tsx', script, file], { uid: 65534, gid: 65534, cwd: resolve('.'), encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    } else {
      try {
        openStore(file).close();
        result = { message: 'opened' };
      } catch (e) {
        result = e as StoreError;
      }
    }
    expect(result.code).toBe('not-writable');
    expect(result.message).toContain(file);
    expect(result.message).toContain(`the data folder ${ro} is not writable by this user`);
    expect(result.message).toMatch(/Choose a writable data folder \(--data DIR\)/);
  });

  it('a full disk while writing (simulated with max_page_count)', () => {
    t = tempStore();
    t.store.createRun({ id: 'r', name: 'r', config: smallConfig() });
    const pages = t.store.db.pragma('page_count', { simple: true }) as number;
    t.store.db.pragma(`max_page_count = ${pages + 1}`);
    const big = Array.from({ length: 5000 }, (_, i) => ({ step: i, time: i, loss: 1, mse: 1, vb: 1, gradNorm: 1, lr: 1, samplesPerSec: 1 }));
    expectStoreError(() => t!.store.appendStepMetrics('r', big), 'disk-full', t.file, /disk is full/, /Free some disk space/);
    // The failed batch rolled back as a whole.
    expect(t.store.readSeriesRaw('r', 'loss').step).toEqual([]);
    expect(t.store.getRun('r')?.step).toBe(0);
  });

  it('programming errors pass through unchanged (not dressed up as storage problems)', () => {
    t = tempStore();
    expect(() => t!.store.appendStepMetrics('no-such-run', [{ step: 1, time: 1, loss: 1, mse: 1, vb: null, gradNorm: 1, lr: 1, samplesPerSec: 1 }])).toThrow(
      /FOREIGN KEY constraint failed/,
    );
    try {
      t.store.createRun({ id: 'x', name: 'x', config: smallConfig() });
      t.store.createRun({ id: 'x', name: 'x', config: smallConfig() });
    } catch (e) {
      expect(e).not.toBeInstanceOf(StoreError);
      expect((e as Error).message).toMatch(/UNIQUE constraint failed: runs.id/);
    }
  });
});
