/**
 * Smoke test of the install: the native SQLite addon was built for this Node, and tfjs computes.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('better-sqlite3 (native addon)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iddpm-smoke-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens a file database in WAL mode and round-trips a row across connections', () => {
    const file = join(dir, 'studio.db');
    const db = new Database(file);
    expect(db.pragma('journal_mode = WAL', { simple: true })).toBe('wal');
    db.exec('CREATE TABLE metric (run_id TEXT NOT NULL, step INTEGER NOT NULL, loss REAL NOT NULL)');
    const insert = db.prepare('INSERT INTO metric (run_id, step, loss) VALUES (?, ?, ?)');
    db.transaction(() => {
      insert.run('r1', 1, 0.5);
      insert.run('r1', 2, 0.25);
    })();
    expect(existsSync(`${file}-wal`)).toBe(true);

    // A second connection sees the committed rows (what the main side and a worker would do).
    const reader = new Database(file, { readonly: true });
    const rows = reader.prepare('SELECT step, loss FROM metric WHERE run_id = ? ORDER BY step').all('r1');
    expect(rows).toEqual([
      { step: 1, loss: 0.5 },
      { step: 2, loss: 0.25 },
    ]);
    reader.close();
    db.close();
  });
});

describe('@tensorflow/tfjs', () => {
  const a = [
    [1, 2, 3],
    [4, 5, 6],
  ];
  const b = [
    [7, 8],
    [9, 10],
    [11, 12],
  ];
  const expected = [
    [58, 64],
    [139, 154],
  ];

  it.each(['cpu', 'wasm'])('computes a matMul on the %s backend', async (backend) => {
    expect(await tf.setBackend(backend)).toBe(true);
    await tf.ready();
    expect(tf.getBackend()).toBe(backend);
    const c = tf.tidy(() => tf.matMul(tf.tensor2d(a), tf.tensor2d(b)));
    expect(c.shape).toEqual([2, 2]);
    expect(await c.array()).toEqual(expected);
    c.dispose();
  });
});
