/**
 * Turning SQLite and file-system failures into messages a user can act on. "SQLITE_CANTOPEN: unable to
 * open database file" says neither which file nor what to do; a StoreError names the file, the cause in
 * words, and the fix, and keeps a stable `code` so the faces can react (e.g. offer "choose another folder").
 */
import { accessSync, constants, statSync } from 'node:fs';
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

/** Why a path cannot hold the database file, found by looking at the file system; null when it looks fine. */
function diagnosePath(file: string): { code: StoreErrorCode; why: string } | null {
  if (isDirectory(file)) return { code: 'is-a-directory', why: `${file} is a folder, not a database file` };
  // Walk up to the first ancestor that exists: a regular file there means ENOTDIR for everything below.
  let dir = path.dirname(file);
  for (;;) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      const up = path.dirname(dir);
      if (up === dir) return null;
      dir = up;
      continue;
    }
    if (!st.isDirectory()) return { code: 'not-a-directory', why: `${dir} is a file, not a folder` };
    break;
  }
  try {
    accessSync(path.dirname(file), constants.W_OK);
  } catch {
    return { code: 'not-writable', why: `the folder ${path.dirname(file)} is not writable` };
  }
  try {
    accessSync(file, constants.F_OK);
    accessSync(file, constants.W_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { code: 'not-writable', why: `the file is not writable` };
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
  'not-writable': 'Choose a writable data folder (--data DIR) or fix its permissions.',
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
  if (code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'EISDIR' || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM') {
    const d = diagnosePath(file);
    if (d) return storeError(d.code, file, `${head}: ${d.why} (${code || msg})`, err);
    if (code === 'EROFS' || code === 'SQLITE_READONLY') return storeError('not-writable', file, `${head}: it is read-only (${code})`, err);
    return storeError(code.startsWith('SQLITE_CANTOPEN') ? 'not-writable' : 'io', file, `${head}: ${msg} (${code})`, err);
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return storeError('corrupt', file, `the studio database ${file} is damaged or is not a SQLite database (${msg})`, err);
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || (code.startsWith('SQLITE_IOERR') && /full|ENOSPC/i.test(msg))) {
    return storeError('disk-full', file, `${head}: the disk is full (${msg})`, err);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return storeError('busy', file, `${head}: it is locked (${msg})`, err);
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return storeError('io', file, `${head}: input/output error (${msg}, ${code})`, err);
  // Anything else is not a storage problem: pass it on as it is.
  return err instanceof Error ? err : storeError('unknown', file, `${head}: ${msg}`, err);
}
