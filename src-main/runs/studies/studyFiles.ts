/** Where a study's files live: `<data>/studies/<id>/` (its export folder is `export/` inside). */
import path from 'node:path';
import { removeFolderInside } from '../runFiles';

export function studyDir(dataDir: string, studyId: string): string {
  return path.join(dataDir, 'studies', studyId);
}

export function studyFolder(dataDir: string, studyId: string): string {
  return path.join(studyDir(dataDir, studyId), 'export');
}

/**
 * Deletes a study's folder, only when it lies strictly inside `<data>/studies/` (false, nothing touched,
 * otherwise): behind the id rule, as for run folders, so no stored id can reach the data folder.
 */
export function removeStudyFolder(dataDir: string, studyId: string): boolean {
  return removeFolderInside(path.resolve(dataDir, 'studies'), studyId);
}
