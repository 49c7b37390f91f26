/**
 * The database keeps file paths relative to its data folder, so a moved or copied folder still points at
 * its own files; databases written with absolute paths are migrated.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, SCHEMA_VERSION } from '../../src-main/store';
import { MIGRATIONS } from '../../src-main/store/migrations';
import { smallConfig, tempDir, tempStore, type TempStore } from './helpers';

let t: TempStore | undefined;
const cleanups: (() => void)[] = [];
afterEach(() => {
  t?.cleanup();
  t = undefined;
  cleanups.splice(0).forEach((c) => c());
});

const raw = (s: TempStore, sql: string) => s.store.db.prepare(sql).pluck().all();

describe('stored file paths', () => {
  it('paths inside the data folder are stored relative and read back absolute; others stay absolute', () => {
    t = tempStore();
    const s = t.store;
    const run = join(t.dir, 'runs', 'r');
    s.createRun({ id: 'r', name: 'r', config: smallConfig(), runDir: run });
    const cp = s.addCheckpoint('r', { step: 5, path: join(run, 'checkpoints', 'step-00000005.safetensors'), bytes: 1, emaRates: [] });
    s.addPreview('r', { step: 5, gridPath: join(run, 'previews', 'step-00000005.png'), count: 4, samplingSteps: 5, emaRate: null, seed: 0 });
    const set = s.addSampleSet({ runId: 'r', sampler: 'ddim', steps: 5, seed: 0, count: 2, gridPath: join(run, 'samples', 'grid.png'), images: [join(run, 'samples', 'a.png'), '/elsewhere/b.png'] });

    expect(raw(t, 'SELECT run_dir FROM runs')).toEqual(['runs/r']);
    expect(raw(t, 'SELECT path FROM checkpoints')).toEqual(['runs/r/checkpoints/step-00000005.safetensors']);
    expect(raw(t, 'SELECT grid_path FROM sample_sets ORDER BY id')).toEqual(['runs/r/previews/step-00000005.png', 'runs/r/samples/grid.png']);
    expect(raw(t, 'SELECT path FROM sample_images ORDER BY idx')).toEqual(['runs/r/samples/a.png', '/elsewhere/b.png']);

    expect(s.getRun('r')?.runDir).toBe(run);
    expect(s.getCheckpoint(cp.id)?.path).toBe(join(run, 'checkpoints', 'step-00000005.safetensors'));
    expect(s.findCheckpointByPath(join(run, 'checkpoints', 'step-00000005.safetensors'))?.id).toBe(cp.id);
    expect(s.getSampleSet(set)?.images.map((i) => i.path)).toEqual([join(run, 'samples', 'a.png'), '/elsewhere/b.png']);
    expect(s.listPreviews('r')[0].gridPath).toBe(join(run, 'previews', 'step-00000005.png'));
    s.updateRun('r', { runDir: join(t.dir, 'runs', 'r2') });
    expect(raw(t, 'SELECT run_dir FROM runs')).toEqual(['runs/r2']);
  });

  it('a moved data folder resolves its paths in the new place', () => {
    const a = tempDir();
    const b = tempDir();
    cleanups.push(a.cleanup, b.cleanup);
    const first = openStore(join(a.dir, 'studio.db'));
    first.createRun({ id: 'r', name: 'r', config: smallConfig(), runDir: join(a.dir, 'runs', 'r') });
    first.close();
    mkdirSync(b.dir, { recursive: true });
    renameSync(join(a.dir, 'studio.db'), join(b.dir, 'studio.db'));
    const moved = openStore(join(b.dir, 'studio.db'));
    expect(moved.getRun('r')?.runDir).toBe(join(b.dir, 'runs', 'r'));
    moved.close();
  });

  it('the migration makes absolute paths relative, also those of a folder copied before it', () => {
    // A database at schema version 1, as the previous release wrote it: absolute paths everywhere.
    t = tempStore({ migrations: MIGRATIONS.slice(0, 1) });
    expect(t.store.schemaVersion).toBe(1);
    const db = t.store.db;
    const insertRun = db.prepare(`INSERT INTO runs (id, name, config, status, created_at, updated_at, step, run_dir) VALUES (?, ?, '{}', 'stopped', 1, 1, 0, ?)`);
    const here = join(t.dir, 'runs', 'here');
    const original = '/old/place/data/runs/copied'; // this database was copied from /old/place/data
    insertRun.run('here', 'here', here);
    insertRun.run('copied', 'copied', original);
    const insertCp = db.prepare(`INSERT INTO checkpoints (run_id, step, path, bytes, created_at, ema_rates) VALUES (?, ?, ?, 1, 1, '[]')`);
    insertCp.run('here', 5, join(here, 'checkpoints', 'step-00000005.safetensors'));
    insertCp.run('copied', 5, `${original}/checkpoints/step-00000005.safetensors`);
    insertCp.run('copied', 6, '/somewhere/else.safetensors');
    const setId = db
      .prepare(`INSERT INTO sample_sets (kind, run_id, created_at, settings, sampler, steps, seed, count, grid_path, status) VALUES ('sample', 'copied', 1, '{}', 'ddim', 5, 0, 1, ?, 'done') RETURNING id`)
      .pluck()
      .get(`${original}/samples/set-00001/grid.png`) as number;
    db.prepare('INSERT INTO sample_images (set_id, idx, path) VALUES (?, 0, ?)').run(setId, `${original}/samples/set-00001/sample-0000.png`);

    const s = t.reopen({});
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    expect(raw(t, `SELECT run_dir FROM runs ORDER BY id`)).toEqual(['runs/copied', 'runs/here']);
    expect(raw(t, `SELECT path FROM checkpoints ORDER BY run_id, step`)).toEqual([
      'runs/copied/checkpoints/step-00000005.safetensors',
      '/somewhere/else.safetensors',
      'runs/here/checkpoints/step-00000005.safetensors',
    ]);
    expect(raw(t, 'SELECT grid_path FROM sample_sets')).toEqual(['runs/copied/samples/set-00001/grid.png']);
    expect(raw(t, 'SELECT path FROM sample_images')).toEqual(['runs/copied/samples/set-00001/sample-0000.png']);
    // Read back, the copied run's files are this folder's.
    expect(s.getRun('copied')?.runDir).toBe(join(t.dir, 'runs', 'copied'));
    expect(s.listCheckpoints('copied')[0].path).toBe(join(t.dir, 'runs', 'copied', 'checkpoints', 'step-00000005.safetensors'));
  });
});
