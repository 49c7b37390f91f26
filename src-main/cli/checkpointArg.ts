/**
 * The CHECKPOINT argument of `sample` and `eval`: a .safetensors file, or the id of a run in the data
 * directory (`--data DIR`), which means that run's newest checkpoint.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runIdProblem } from '../../src-shared/runId';
import { listCheckpoints, runDir } from '../runs/runFiles';
import { UsageError } from './args';
import { checkReadableFile } from './pathChecks';

/** Read as a run id only when it obeys the one run-id rule (so it names a folder directly under <data>/runs). */
function couldBeRunId(arg: string): boolean {
  return runIdProblem(arg) === null && !arg.endsWith('.safetensors');
}

export function resolveCheckpoint(arg: string, dataDir: string, dataFlag: string): string {
  const file = path.resolve(arg);
  if (existsSync(file) || !couldBeRunId(arg)) {
    checkReadableFile(file, 'checkpoint file', `give a .safetensors file or a run id; \`iddpm runs${dataFlag}\` lists runs and \`iddpm runs ID${dataFlag}\` a run's checkpoints`);
    return file;
  }
  const dir = runDir(dataDir, arg);
  if (!existsSync(dir)) {
    throw new UsageError(
      `'${arg}' is neither a checkpoint file nor a run in ${dataDir}: give a .safetensors file, or a run id from \`iddpm runs${dataFlag}\` (with --data DIR for another data directory)`,
    );
  }
  const newest = listCheckpoints(dir).at(-1);
  if (!newest) throw new UsageError(`run ${arg} has no checkpoint yet: train it further (\`iddpm resume ${arg}${dataFlag}\`) or give a .safetensors file`);
  return newest.file;
}
