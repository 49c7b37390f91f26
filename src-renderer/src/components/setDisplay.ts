/**
 * What a sample set's card shows: its grid or its single images. A preview set (drawn during training) keeps only
 * its grid, so asking for single images must still show that grid, with a note saying why, never an empty card.
 */
import type { SampleSet } from '../../../src-shared/protocol';

export interface SetDisplay {
  show: 'grid' | 'singles' | 'nothing';
  /** Why the card does not show what was asked for (null when it does). */
  note: string | null;
}

export function setDisplay(set: Pick<SampleSet, 'kind' | 'gridUrl' | 'images'>, singles: boolean): SetDisplay {
  const hasGrid = !!set.gridUrl;
  const hasSingles = set.images.length > 0;
  if (!hasGrid && !hasSingles) return { show: 'nothing', note: 'This set has no stored images.' };
  if (singles && hasSingles) return { show: 'singles', note: null };
  if (!singles && hasGrid) return { show: 'grid', note: null };
  if (hasGrid) {
    const what = set.kind === 'preview' ? 'A preview set keeps only its grid' : 'This set has only its grid';
    return { show: 'grid', note: `${what}: no single images to show.` };
  }
  // Asked for the grid of a set that has only singles: the singles are the same images, no note needed.
  return { show: 'singles', note: null };
}
