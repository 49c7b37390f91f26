/**
 * File paths as the database keeps them: relative to the data folder (the folder of studio.db), so a
 * data folder can be moved or copied and its database still points at its own files. An absolute path
 * stored there would send a copy's `resume` writing checkpoints into the original folder.
 *
 * The store's callers see absolute paths only: `toStored` on the way in, `fromStored` on the way out.
 * A path outside the data folder (a file the user keeps elsewhere) stays absolute. Relative paths are
 * written with '/' so a folder copied between systems still resolves.
 */
import path from 'node:path';

export class StoredPaths {
  readonly dataDir: string;

  constructor(dataDir: string) {
    this.dataDir = path.resolve(dataDir);
  }

  /** The data folder of a database file. */
  static forDatabase(file: string): StoredPaths {
    return new StoredPaths(path.dirname(path.resolve(file)));
  }

  /** An absolute path (or one relative to the data folder) → the form the database keeps. */
  toStored(file: string): string {
    const abs = path.resolve(this.dataDir, file);
    const rel = relativeInside(this.dataDir, abs);
    return rel === null ? abs : rel.split(path.sep).join('/');
  }

  toStoredOrNull(file: string | null | undefined): string | null {
    return file === null || file === undefined ? null : this.toStored(file);
  }

  /** What the database keeps → an absolute path in this data folder (absolute ones pass through). */
  fromStored(stored: string): string {
    return path.isAbsolute(stored) ? stored : path.resolve(this.dataDir, ...stored.split('/'));
  }

  fromStoredOrNull(stored: string | null): string | null {
    return stored === null ? null : this.fromStored(stored);
  }
}

/** `file` relative to `dir` when it lies inside it (or is it), else null. */
export function relativeInside(dir: string, file: string): string | null {
  const rel = path.relative(dir, file);
  if (rel === '') return '.';
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return null;
  return rel;
}
