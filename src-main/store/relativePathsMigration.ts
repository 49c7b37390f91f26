/**
 * Schema version 2: the file paths the database holds become relative to the data folder (see
 * storedPaths.ts). Before it, run folders, checkpoints, previews and sample images were stored as
 * absolute paths, so a copied data folder kept pointing at (and resuming into) the original.
 *
 * A path is made relative to the folder of studio.db when it lies inside it. A database that was copied
 * before this version still holds the original folder's paths: for those, the folder a run was created
 * in is read off its run folder (`<data>/runs/<id>`), and the run's paths inside that folder become
 * relative too, so the copy points at its own files. Anything else (a file outside both) stays as it is.
 */
import path from 'node:path';
import type Database from 'better-sqlite3';
import { relativeInside } from './storedPaths';

export function relativizeStoredPaths(db: Database.Database, file: string): void {
  const dataDir = path.dirname(path.resolve(file));
  const origin = new Map<string, string>();
  for (const r of db.prepare<[], { id: string; run_dir: string | null }>('SELECT id, run_dir FROM runs').all()) {
    const dir = r.run_dir;
    if (dir && path.isAbsolute(dir) && path.basename(dir) === r.id && path.basename(path.dirname(dir)) === 'runs') {
      origin.set(r.id, path.dirname(path.dirname(dir)));
    }
  }
  const relative = (p: string, runId: string | null): string => {
    if (!path.isAbsolute(p)) return p;
    for (const base of [dataDir, runId === null ? undefined : origin.get(runId)]) {
      const rel = base === undefined ? null : relativeInside(base, p);
      if (rel !== null) return rel.split(path.sep).join('/');
    }
    return p;
  };
  // Each SELECT names its row's key columns k1 (and k2), its path p and the run it belongs to.
  const rewrite = (select: string, update: string) => {
    const set = db.prepare(update);
    for (const row of db.prepare<[], { k1: number | string; k2?: number; p: string; run_id: string | null }>(select).all()) {
      const rel = relative(row.p, row.run_id);
      if (rel !== row.p) set.run(rel, row.k1, ...(row.k2 === undefined ? [] : [row.k2]));
    }
  };
  rewrite('SELECT id AS k1, run_dir AS p, id AS run_id FROM runs WHERE run_dir IS NOT NULL', 'UPDATE runs SET run_dir = ? WHERE id = ?');
  rewrite('SELECT id AS k1, path AS p, run_id FROM checkpoints', 'UPDATE checkpoints SET path = ? WHERE id = ?');
  rewrite('SELECT id AS k1, grid_path AS p, run_id FROM sample_sets WHERE grid_path IS NOT NULL', 'UPDATE sample_sets SET grid_path = ? WHERE id = ?');
  rewrite(
    'SELECT i.set_id AS k1, i.idx AS k2, i.path AS p, s.run_id FROM sample_images i JOIN sample_sets s ON s.id = i.set_id',
    'UPDATE sample_images SET path = ? WHERE set_id = ? AND idx = ?',
  );
}
