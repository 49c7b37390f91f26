/**
 * Turning SQLite and file-system failures into messages a user can act on. "SQLITE_CANTOPEN: unable to
 * open database file" says neither which file nor what to do; a StoreError names the file, the cause in
 * words, and the fix, and keeps a stable `code` so the faces can react (e.g. offer "choose another folder").
 */
import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { nativeModuleProblem } from './nativeBinding';

export type StoreErrorCode =
  | 'not-writable'
  | 'not-a-directory'
  | 'is-a-directory'
  | 'disk-full'
  | 'corrupt'
  | 'newer-schema'
  | 'busy'
  | 'io'
  | 'native-module'
  | 'unknown';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A storage problem in words (no error codes: they go in the error's cause). */
export interface StorageProblem {
  code: StoreErrorCode;
  why: string;
}

/** Below this much free space an I/O error is the disk being full (SQLite says SQLITE_IOERR_SHMSIZE, …). */
const NEARLY_FULL_BYTES = 1 << 20;

/** Codes that mean a path could not be created or written (the file system says why, not the code). */
const ACCESS_CODES = new Set(['ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'EEXIST', 'ENOENT', 'SQLITE_PERM']);

/** The error's code: its `code`, else one its message names (a worker sends "EROFS: read-only file system, …"). */
function errorCode(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && e.code) return e.code;
  const msg = String(e?.message ?? err ?? '');
  return /\b(ENOSPC|EROFS|EACCES|EPERM|SQLITE_FULL|SQLITE_READONLY)\b/.exec(msg)?.[1] ?? '';
}

/** The nearest folder at or above `p` that exists, or null. */
function nearestExisting(p: string): string | null {
  for (let dir = path.resolve(p); ; dir = path.dirname(dir)) {
    try {
      if (statSync(dir).isDirectory()) return dir;
    } catch {
      // missing: look further up
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/** Whether the file system that holds `folder` (or would hold it) has (almost) no space left. */
export function isOutOfSpace(folder: string): boolean {
  const at = nearestExisting(folder);
  if (!at) return false;
  try {
    const fs = statfsSync(at);
    return fs.bavail * fs.bsize < NEARLY_FULL_BYTES;
  } catch {
    return false;
  }
}

/** Why `folder` cannot be written (a read-only disk, or permissions), found on the file system; null when it can. */
export function unwritableFolder(folder: string, label = 'the data folder'): string | null {
  const at = nearestExisting(folder);
  if (!at) return null;
  try {
    accessSync(at, constants.W_OK);
    return null;
  } catch (e) {
    const readOnly = (e as NodeJS.ErrnoException).code === 'EROFS';
    const what = readOnly ? 'is read-only' : 'is not writable by this user';
    return at === path.resolve(folder) ? `${label} ${folder} ${what}` : `${at} ${what}, so the folder ${folder} cannot be created`;
  }
}

/** Why a path cannot hold the database file, found by looking at the file system; null when it looks fine. */
function diagnosePath(file: string, label: string): StorageProblem | null {
  if (isDirectory(file)) return { code: 'is-a-directory', why: `${file} is a folder, not a database file` };
  // Walk up to the first ancestor that exists: a regular file there means ENOTDIR for everything below.
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      if (path.dirname(dir) === dir) return null;
      continue;
    }
    if (!st.isDirectory()) return { code: 'not-a-directory', why: `${dir} is a file, not a folder` };
    break;
  }
  const folder = unwritableFolder(path.dirname(file), label);
  if (folder) return { code: 'not-writable', why: folder };
  try {
    accessSync(file, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return { code: 'not-writable', why: `the file ${file} ${code === 'EROFS' ? 'is read-only' : 'is not writable by this user'}` };
  }
  return null;
}

/**
 * Whether `err` (from SQLite or the file system, while working on `file` in its data folder) is a storage
 * problem: the disk is full, or the folder or file cannot be written. Named from what the file system
 * says, because the codes mislead (a recursive mkdir on a read-only disk says ENOENT; a full disk can
 * surface as SQLITE_IOERR_SHMSIZE). `label` says what the folder is to the user. Null for anything else.
 */
export function storageProblem(err: unknown, file: string, label = 'the data folder'): StorageProblem | null {
  const code = errorCode(err);
  const msg = String((err as { message?: unknown })?.message ?? err);
  const folder = path.dirname(file);
  const full: StorageProblem = { code: 'disk-full', why: `the disk is full: no space is left for ${label} ${folder}` };
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || /no space left on device|database or disk is full/i.test(msg)) return full;
  if ((code.startsWith('SQLITE_IOERR') || code === 'EIO') && isOutOfSpace(folder)) return full;
  if (ACCESS_CODES.has(code) || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY')) {
    const found = diagnosePath(file, label);
    if (found) return found;
    if (code === 'EROFS' || code.startsWith('SQLITE_READONLY')) return { code: 'not-writable', why: `${label} ${folder} is read-only` };
  }
  return null;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

const FIX: Record<StoreErrorCode, string> = {
  'not-writable': 'Choose a writable data folder (--data DIR), or make this one writable.',
  'not-a-directory': 'Choose another data folder (--data DIR) or move that file out of the way.',
  'is-a-directory': 'Choose another data folder (--data DIR) or move that folder out of the way.',
  'disk-full': 'Free some disk space and try again.',
  corrupt:
    'Move it aside (for example rename it to studio.db.broken) and start the studio again to begin with an empty database; the run folders on disk are not touched.',
  'newer-schema': 'Use the newer iddpm-studio, or choose another data folder (--data DIR).',
  busy: 'Another process holds it locked; close other studio windows or CLI commands using this data folder and retry.',
  io: 'Check the disk and the data folder, then try again.',
  'native-module': '', // the message of nativeModuleProblem already ends with its fix
  unknown: 'Check the data folder, then try again.',
};

/** A StoreError whose message ends with the fix for its code. */
export function storeError(code: StoreErrorCode, file: string, what: string, cause?: unknown): StoreError {
  return new StoreError(code, file, FIX[code] ? `${what}. ${FIX[code]}` : what, { cause });
}

/**
 * Maps a SQLite or fs error from `action` ("open", "write to", "read") on `file` to a StoreError when it is
 * a storage problem; any other error (a constraint violation, a bug in a query) comes back unchanged.
 */
export function toStoreError(err: unknown, file: string, action: string): Error {
  if (err instanceof StoreError) return err;
  const e = err as { code?: string; message?: string };
  const code = String(e?.code ?? '');
  const msg = String(e?.message ?? err);
  const head = `cannot ${action} the studio database ${file}`;
  const native = nativeModuleProblem(err);
  if (native) return storeError('native-module', file, native, err);
  const problem = storageProblem(err, file);
  if (problem) return storeError(problem.code, file, `${head}: ${problem.why}`, err);
  if (code.startsWith('SQLITE_CANTOPEN')) return storeError('not-writable', file, `${head}: ${msg} (${code})`, err);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return storeError('corrupt', file, `the studio database ${file} is damaged or is not a SQLite database (${msg})`, err);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return storeError('busy', file, `${head}: it is locked (${msg})`, err);
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return storeError('io', file, `${head}: input/output error (${msg}, ${code})`, err);
  // Anything else is not a storage problem: pass it on as it is.
  return err instanceof Error ? err : storeError('unknown', file, `${head}: ${msg}`, err);
}
