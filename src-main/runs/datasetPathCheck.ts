/**
 * The dataset path of a new run, checked when the run is created: a typo then comes back to the form, beside the Path
 * field, instead of failing the run minutes later when its worker opens the data.
 */
import path from 'node:path';
import type { ConfigProblem } from '../../src-shared/config';
import type { RunConfig } from '../../src-shared/config/runConfig';
import { pathKind } from '../data/files';

export async function datasetPathProblem(config: RunConfig): Promise<ConfigProblem | null> {
  const p = config.dataset.path?.trim();
  if (!p) return null;
  const full = path.resolve(p);
  let kind;
  try {
    kind = await pathKind(full);
  } catch (e) {
    return { field: 'dataset.path', message: `dataset.path ${full} cannot be read (${(e as Error).message}): check its permissions.` };
  }
  if (kind === 'missing') return { field: 'dataset.path', message: `dataset.path ${full} does not exist: choose an existing ${config.dataset.kind === 'folder' ? 'folder' : 'file or folder'}.` };
  if (config.dataset.kind === 'folder' && kind !== 'dir') return { field: 'dataset.path', message: `dataset.path ${full} is a file: dataset 'folder' needs the folder of training images.` };
  return null;
}
