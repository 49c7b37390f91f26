/** Where a study's files live: `<data>/studies/<id>/` (its export folder is `export/` inside). */
import path from 'node:path';

export function studyFolder(dataDir: string, studyId: string): string {
  return path.join(dataDir, 'studies', studyId, 'export');
}
