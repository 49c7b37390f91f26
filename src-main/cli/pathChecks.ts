/**
 * Checks on the files and folders a command reads or writes, made before any work starts, with messages
 * that say what is wrong and what to do (never a bare ENOENT or EACCES). Also turns a file-system error
 * that slips through into the same words.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './args';

/** A file-system error code in the user's words. */
export function fsReason(code: string | undefined): string | null {
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'is not accessible to this user (permission denied)';
    case 'EROFS':
      return 'is on a read-only file system';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'cannot be written: the disk is full (free some space and try again)';
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'ENOTDIR':
      return 'has a file where a folder is expected in its path';
    case 'EEXIST':
      return 'already exists (something else is in the way at that path)';
    case 'EMFILE':
    case 'ENFILE':
      return 'cannot be opened: too many open files (close other programs and try again)';
    default:
      return null;
  }
}

/** Rewrites a Node file-system error (`ENOENT: no such file…`) as "<path> <reason>"; null for other errors. */
export function describeFsError(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException;
  const reason = fsReason(e?.code);
  if (!reason || typeof e.path !== 'string') return null;
  return `${e.path} ${reason}`;
}

/** A file the command will read: it must exist, be a file and be readable. */
export function checkReadableFile(file: string, what: string, hint: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (e) {
    throw new UsageError(`${what} ${file} ${fsReason((e as NodeJS.ErrnoException).code) ?? 'cannot be read'}: ${hint}`);
  }
  if (!isFile) throw new UsageError(`${what} ${file} is a folder, not a file: ${hint}`);
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new UsageError(`${what} ${file} is not readable by this user: check its permissions`);
  }
}

/**
 * A folder the command will create (with its parents) or fill: it must not be a file, and the nearest
 * folder that exists on its path must be writable.
 */
export function checkOutputFolder(dir: string, flag: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UsageError(`${flag} ${dir} is a file, but a folder is needed here: give a folder path`);
    checkWritable(dir, flag, dir);
    return;
  }
  const parent = nearestExisting(path.dirname(dir));
  if (!statSync(parent).isDirectory()) throw new UsageError(`${flag} ${dir} cannot be created: ${parent} is a file, not a folder`);
  checkWritable(parent, flag, dir);
}

/** A file the command will write: not a folder, in an existing writable folder. */
export function checkOutputFile(file: string, flag: string): void {
  if (existsSync(file)) {
    if (statSync(file).isDirectory()) throw new UsageError(`${flag} ${file} is a folder, but a file name is needed here: add a file name, e.g. ${path.join(file, 'nll.csv')}`);
    try {
      accessSync(file, constants.W_OK);
    } catch {
      throw new UsageError(`${flag} ${file} exists and is not writable by this user: give another file name`);
    }
    return;
  }
  const parent = path.dirname(file);
  if (!existsSync(parent)) throw new UsageError(`${flag} ${file}: its folder ${parent} does not exist: create it first or give a file in an existing folder`);
  if (!statSync(parent).isDirectory()) throw new UsageError(`${flag} ${file}: ${parent} is a file, not a folder`);
  checkWritable(parent, flag, file);
}

function checkWritable(folder: string, flag: string, target: string): void {
  try {
    accessSync(folder, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'is on a read-only file system' : 'is not writable by this user';
    throw new UsageError(`${flag} ${target} cannot be written: the folder ${folder} ${why}; choose a writable location`);
  }
}

function nearestExisting(dir: string): string {
  let d = path.resolve(dir);
  while (!existsSync(d)) {
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  return d;
}

/** Runs a check on a default path and, when it fails, adds how to pick another path (e.g. "--csv FILE"). */
export function checkDefaultPath(check: () => void, flagForAnother: string): void {
  try {
    check();
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${e.message}; or choose another place with ${flagForAnother}`);
    throw e;
  }
}
