/**
 * Atomic writes go through `.<name>.<writer pid>.tmp` beside their target (writeFileAtomic). A writer
 * killed mid-write (kill -9, power loss) leaves that file behind, checkpoints 10+ MB each, forever. This
 * removes the ones no live writer can still rename: those whose writer process is gone, and, when the
 * run is not training, every temp file of the training itself (checkpoints, config, worker lock), whose
 * only writer is the run's worker.
 */
import { readdirSync, rmSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { isProcessAlive } from './workerLock';

const TEMP_FILE = /^\.(.+)\.(\d+)\.tmp$/;
/** Targets only a training worker writes (relative to the run folder). */
const TRAINING_TARGET = /^(checkpoints\/step-\d+\.safetensors|config\.json|worker\.lock)$/;
/** Run folders are shallow (samples/set-N/…); this bounds the walk on a folder a user filled by hand. */
const MAX_DEPTH = 3;

/**
 * Removes stale temp files under one run folder and returns their paths. `trainingActive`: a live
 * worker trains this run now, so its checkpoint temp files are kept while their writer lives.
 */
export function removeStaleTempFiles(runFolder: string, opts: { trainingActive: boolean }): string[] {
  const removed: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // no folder yet, or unreadable: nothing of ours to clean
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < MAX_DEPTH) walk(full, depth + 1);
        continue;
      }
      const m = TEMP_FILE.exec(e.name);
      if (!m || !e.isFile()) continue;
      const target = path.relative(runFolder, path.join(dir, m[1])).split(path.sep).join('/');
      const writerGone = !isProcessAlive(Number(m[2]));
      if (writerGone || (!opts.trainingActive && TRAINING_TARGET.test(target))) {
        try {
          rmSync(full, { force: true });
          removed.push(full);
        } catch {
          // a read-only folder: leave it, the next start tries again
        }
      }
    }
  };
  walk(runFolder, 0);
  return removed;
}
