/** The studies table (schema version 3): a real SQLite file, written, read back, reopened and migrated to. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src-main/store';
import Database from 'better-sqlite3';
import { MIGRATIONS, migrate } from '../../src-main/store/migrations';
import { smallConfig, tempDir, tempStore, type TempStore } from './helpers';

let t: TempStore | undefined;
afterEach(() => {
  t?.cleanup();
  t = undefined;
});

describe('studies table', () => {
  it('stores a study with its runs in order and its evaluations, lists newest first, and survives a reopen', () => {
    let now = 1000;
    t = tempStore({ now: () => now });
    const a = t.store.studies.create({ id: 's-a', name: 'A', kind: 'importance-sampling', size: 'tiny', runs: [{ key: 'vlb-uniform', runId: 's-a-vlb-uniform' }, { key: 'hybrid', runId: 's-a-hybrid' }], ownerPid: 42 });
    expect(a).toMatchObject({ id: 's-a', status: 'training', evaluations: [], ownerPid: 42, error: null, createdAt: 1000, finishedAt: null });
    now = 2000;
    t.store.studies.create({ id: 's-b', name: 'B', kind: 'noise-schedule', size: 'quick', runs: [] });
    expect(t.store.studies.list().map((s) => s.id)).toEqual(['s-b', 's-a']);

    now = 3000;
    const evaluation = { key: 'nll:hybrid:6', kind: 'nll' as const, runKey: 'hybrid', checkpointStep: 6, settings: { images: 4 }, jobId: 7, status: 'queued' as const };
    t.store.studies.update('s-a', { status: 'evaluating', evaluations: [evaluation] });
    t.store.studies.update('s-a', { status: 'done', finishedAt: 3500, ownerPid: null });
    const store = t.reopen();
    expect(store.studies.get('s-a')).toMatchObject({
      status: 'done',
      runs: [{ key: 'vlb-uniform', runId: 's-a-vlb-uniform' }, { key: 'hybrid', runId: 's-a-hybrid' }],
      evaluations: [evaluation],
      ownerPid: null,
      finishedAt: 3500,
      updatedAt: 3000,
    });
    expect(() => store.studies.update('nope', { status: 'done' })).toThrow(/no study with id 'nope'/);
    expect(store.studies.get('nope')).toBeNull();
  });

  it('is added to a database of the previous schema version, keeping its runs', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'studio.db');
      // A studio.db as the previous release left it: its schema, one run.
      const old = new Database(file);
      migrate(old, file, MIGRATIONS.slice(0, MIGRATIONS.length - 1));
      old.prepare("INSERT INTO runs (id, name, config, status, created_at, updated_at) VALUES ('r1', 'r1', ?, 'done', 1, 1)").run(JSON.stringify(smallConfig()));
      expect(() => old.prepare('SELECT * FROM studies').all()).toThrow(/no such table: studies/);
      old.close();
      const store = openStore(file);
      expect(store.schemaVersion).toBe(MIGRATIONS.length);
      expect(store.getRun('r1')?.status).toBe('done');
      expect(store.studies.list()).toEqual([]);
      store.close();
    } finally {
      cleanup();
    }
  });
});
