/**
 * The data directory of a command: `--data DIR`, else $IDDPM_DATA, else ~/.iddpm-studio (README "The
 * command line"), and the `--data …` text to repeat in the commands a message suggests.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { defaultDataDir } from '../runs/runFiles';
import { UsageError, type OptionSpec } from './args';

export const DATA_OPTION: Record<string, OptionSpec> = {
  data: { type: 'string', description: 'data directory (default $IDDPM_DATA, else ~/.iddpm-studio)' },
};

export function dataDirOf(options: Record<string, unknown>): string {
  return options.data ? path.resolve(String(options.data)) : defaultDataDir();
}

/** ` --data DIR` when the user gave one, so suggested commands act on the same directory. */
export function dataFlagOf(options: Record<string, unknown>): string {
  return options.data ? ` --data ${dataDirOf(options)}` : '';
}

/**
 * The studio database of a data directory that must already exist (listing, resuming, stopping): never
 * created as a side effect, so a mistyped --data says so instead of leaving an empty studio behind.
 * Returns null when the directory holds no studio yet.
 */
export function existingStudioDb(dataDir: string): string | null {
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) {
    throw new UsageError(`--data ${dataDir} is a file, not a data folder: give the folder that holds studio.db`);
  }
  const db = path.join(dataDir, 'studio.db');
  return existsSync(db) ? db : null;
}

/** As existingStudioDb, for a command about one run: no studio there means no such run. */
export function requireStudioDb(dataDir: string, runId: string): string {
  const db = existingStudioDb(dataDir);
  if (!db) throw new UsageError(`no run '${runId}': ${dataDir} holds no studio data yet (no studio.db); check --data DIR or $IDDPM_DATA`);
  return db;
}
