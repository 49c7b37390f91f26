/** Ids of studies and of their runs: `<kind>-<yyyymmdd-hhmmss>[-n]` and `<study id>-<run key>`, within the run-id rule. */
import { RUN_ID_MAX_LENGTH } from '../../../src-shared/runId';

export function newStudyId(kind: string, now: Date, taken: (id: string) => boolean): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  for (let n = 1; ; n++) {
    const id = n === 1 ? `${kind}-${stamp}` : `${kind}-${stamp}-${n}`;
    if (!taken(id)) return id;
  }
}

export function studyRunId(studyId: string, runKey: string): string {
  const id = `${studyId}-${runKey}`;
  if (id.length > RUN_ID_MAX_LENGTH) throw new Error(`study run id '${id}' is longer than ${RUN_ID_MAX_LENGTH} characters`);
  return id;
}
