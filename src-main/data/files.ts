/**
 * File access for the loaders, with errors that name the file and say what is wrong in words a user can
 * act on (DatasetError), instead of Node's bare "ENOENT: no such file or directory, open …".
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { DatasetError } from './dataset';

const gunzipAsync = promisify(gunzip);

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read: permission denied';
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'ENOTDIR':
      return 'is not a folder';
    default:
      return `cannot be read: ${(err as Error)?.message ?? String(err)}`;
  }
}

/** `what` describes the expected thing, e.g. "IDX file"; the message reads "IDX file /x/y does not exist". */
export async function readBytes(file: string, what: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    throw new DatasetError(`${what} ${file} ${reason(err)}`, file);
  }
}

export type PathKind = 'file' | 'dir' | 'missing';

export async function pathKind(p: string): Promise<PathKind> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? 'dir' : 'file';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return 'missing';
    }
    throw new DatasetError(`${p} ${reason(err)}`, p);
  }
}

/** Names in a folder (not recursive), sorted by UTF-16 code unit like Python's sorted() on BMP names. */
export async function listDir(dir: string, what: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    throw new DatasetError(`${what} ${dir} ${reason(err)}`, dir);
  }
}

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The bytes, gunzipped when they carry the gzip magic (whatever the file's name says). */
export async function maybeGunzip(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = await gunzipAsync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw new DatasetError(
      `${file} is gzip-compressed but does not decompress (${(err as Error).message}): the download is probably incomplete`,
      file,
    );
  }
}
