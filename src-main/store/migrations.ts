/**
 * Schema versions. The database's version lives in `PRAGMA user_version` (a header field, so reading it
 * needs no table and it changes atomically with the migration's transaction). Migration i (1-based) takes
 * the schema from version i-1 to i; they run in order, each in its own IMMEDIATE transaction, so a crash
 * mid-way leaves the database at the last completed version and two processes opening the same new file
 * (the app and a CLI command) cannot both migrate: the second waits, re-reads the version and finds
 * nothing to do.
 *
 * To change the schema, append a migration; never edit a shipped one.
 */
import type Database from 'better-sqlite3';
import { storeError } from './errors';
import { relativizeStoredPaths } from './relativePathsMigration';
import { SCHEMA_V1 } from './schemaV1';
import { SCHEMA_V3 } from './schemaV3';
import { SCHEMA_STUDIES } from './studies';

export interface Migration {
  /** What it does, for the error message when it fails. */
  name: string;
  /** `file` is the database file (its folder is the data folder). */
  up: (db: Database.Database, file: string) => void;
  /**
   * Run with foreign keys off: needed by migrations that rebuild a table (create new, copy, drop old,
   * rename), because dropping a parent table with enforcement on would cascade-delete its children.
   * `PRAGMA foreign_key_check` runs before commit so the rebuilt schema is still consistent.
   */
  rebuildsTables?: boolean;
}

export const MIGRATIONS: readonly Migration[] = [
  { name: 'initial schema', up: (db) => db.exec(SCHEMA_V1) },
  { name: 'file paths relative to the data folder', up: relativizeStoredPaths },
  { name: 'sample-quality results and job phases', up: (db) => db.exec(SCHEMA_V3) },
  // Schema version 4 (branch `studies`, after quality-service's version 3).
  { name: 'studies', up: (db) => db.exec(SCHEMA_STUDIES) },
];

/** The version a database has once every migration of this build ran. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings `db` (stored in `file`) up to SCHEMA_VERSION. Returns the versions it applied. */
export function migrate(db: Database.Database, file: string, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const target = migrations.length;
  const found = schemaVersion(db);
  if (found > target) {
    throw storeError(
      'newer-schema',
      file,
      `the studio database ${file} has schema version ${found}, written by a newer iddpm-studio; this one understands up to version ${target}`,
    );
  }
  const applied: number[] = [];
  for (let v = found + 1; v <= target; v++) {
    const m = migrations[v - 1];
    if (m.rebuildsTables) db.pragma('foreign_keys = OFF'); // has no effect inside a transaction
    try {
      const ran = db
        .transaction(() => {
          if (schemaVersion(db) >= v) return false; // another process got here first
          m.up(db, file);
          if (m.rebuildsTables) {
            const broken = db.pragma('foreign_key_check') as unknown[];
            if (broken.length) throw new Error(`leaves ${broken.length} rows with dangling foreign keys`);
          }
          db.pragma(`user_version = ${v}`);
          return true;
        })
        .immediate();
      if (ran) applied.push(v);
    } catch (e) {
      if ((e as { name?: string }).name === 'StoreError') throw e;
      const err = e as { code?: string };
      // Storage problems (disk full, read-only) get their own message from the caller.
      if (err.code && /^SQLITE_(FULL|READONLY|CANTOPEN|NOTADB|CORRUPT|IOERR|BUSY)/.test(err.code)) throw e;
      throw new Error(`migrating ${file} to schema version ${v} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
    } finally {
      if (m.rebuildsTables) db.pragma('foreign_keys = ON');
    }
  }
  return applied;
}
