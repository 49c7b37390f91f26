/**
 * Opening studio.db with the settings every connection needs, and nothing else (migrations are separate).
 *
 * - WAL: readers (the UI backfilling a chart) never block the writer (a live run's metrics) and vice versa.
 * - synchronous=NORMAL: in WAL mode a commit is then not fsynced, only checkpoints are; a power cut can
 *   lose the last few transactions but never corrupts the file. Metrics arrive ~10 transactions a
 *   second per run, and an fsync each would cost more than the training step on slow disks.
 * - foreign_keys=ON: off by default in SQLite, per connection; the cascades on run delete rely on it.
 * - busy_timeout: the app and a CLI command may share a data folder; wait for the other's write instead
 *   of failing with SQLITE_BUSY at once.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { toStoreError } from './errors';
import { sqliteNativeBinding } from './nativeBinding';

export interface ConnectionOptions {
  /** ms to wait for another connection's write lock (default 5000). */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

export function openConnection(file: string, opts: ConnectionOptions = {}): Database.Database {
  const busy = opts.busyTimeoutMs ?? 5000;
  if (!opts.readonly) {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
    } catch (e) {
      throw toStoreError(e, file, 'create the folder of');
    }
  }
  let db: Database.Database | undefined;
  try {
    const nativeBinding = sqliteNativeBinding();
    db = new Database(file, {
      timeout: busy,
      readonly: opts.readonly ?? false,
      fileMustExist: opts.readonly ?? false,
      ...(nativeBinding ? { nativeBinding } : {}),
    });
    // The first statement reads the header: a file that is not a database fails here (SQLITE_NOTADB).
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busy))}`);
    // journal_mode only touches the header; make sure the schema itself is readable too.
    db.prepare('SELECT count(*) FROM sqlite_master').pluck().get();
    return db;
  } catch (e) {
    db?.close();
    throw toStoreError(e, file, 'open');
  }
}
