/**
 * The reason a run or job shows when the data folder cannot take what it writes: a full disk or a
 * read-only folder, from the store (StoreError), the file system, or a worker's error message. Said the
 * same way whichever write hit it first, with what to do; null for failures that are not storage.
 */
import path from 'node:path';
import { StoreError, storageProblem } from '../store/errors';

export const DISK_FULL_REASON = 'the disk is full: free space and resume';

export function readOnlyReason(dataDir: string): string {
  return `the data folder ${dataDir} is read-only: make it writable (or choose another with --data DIR) and resume`;
}

/** `cause`: an Error, or the message a worker sent. */
export function storageFailureReason(cause: unknown, dataDir: string): string | null {
  const err = typeof cause === 'string' ? { message: cause } : cause;
  const code = err instanceof StoreError ? err.code : storageProblem(err, path.join(dataDir, 'studio.db'))?.code;
  if (code === 'disk-full') return DISK_FULL_REASON;
  if (code === 'not-writable') return readOnlyReason(dataDir);
  return null;
}
