/**
 * `iddpm train --run-id ID` where ID is already a run of the data folder: the user most likely wants to continue
 * it, so say how, instead of building a fresh config (whose first complaint would be about a dataset path the
 * user never meant to give) or touching the run. Reads the store only; loads no tfjs.
 */
import { openStore } from '../store';
import { UsageError } from './args';
import { existingStudioDb } from './dataDir';

/** Throws a UsageError naming `iddpm resume` when `runId` is already a run in `dataDir`; returns otherwise. */
export function refuseExistingRun(dataDir: string, runId: string, dataFlag: string): void {
  const db = existingStudioDb(dataDir);
  if (!db) return;
  const store = openStore(db);
  let run;
  try {
    run = store.getRun(runId);
  } finally {
    store.close();
  }
  if (!run) return;
  const where = `${run.status} at step ${run.step}${run.maxSteps !== null ? ` of ${run.maxSteps}` : ''}`;
  throw new UsageError(
    `run ${runId} already exists (${where}); train does not continue a run.\n` +
      `  Continue it:          iddpm resume ${runId}${dataFlag}\n` +
      `  Train a copy further: duplicate it in the studio (Runs → Duplicate) and start the copy\n` +
      `  Start a new run:      choose another --run-id, or leave it out for a timestamp`,
  );
}
