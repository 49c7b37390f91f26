/**
 * Mode coverage: how many samples the classifier puts in each class (arg-max of p(y|x)), beside the real
 * held-out images' class shares. A model that drops a digit shows a class with no samples; one that
 * favours a few shows a large total-variation distance from the real shares.
 */
import { checkProbabilities, type ProbabilitySet } from './inceptionScore';

export interface ClassHistogram {
  /** Samples per class. */
  readonly counts: readonly number[];
  /** Classes with at least one sample. */
  readonly covered: number;
  /** ½ Σ |share_c − realShare_c|, in [0, 1]; present when real shares were given. */
  readonly totalVariation?: number;
}

/** Arg-max class of each row (the first on ties). */
export function predictedClasses(p: ProbabilitySet): Uint16Array {
  const out = new Uint16Array(p.count);
  for (let i = 0; i < p.count; i++) {
    let best = 0;
    for (let c = 1; c < p.classes; c++) if (p.data[i * p.classes + c]! > p.data[i * p.classes + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** `realCounts` (optional): class counts of the real images to compare shares with. */
export function classHistogram(p: ProbabilitySet, realCounts?: readonly number[]): ClassHistogram {
  checkProbabilities(p, 'class histogram');
  const counts = new Array<number>(p.classes).fill(0);
  for (const c of predictedClasses(p)) counts[c]! += 1;
  const covered = counts.filter((c) => c > 0).length;
  if (!realCounts) return { counts, covered };
  if (realCounts.length !== p.classes) {
    throw new RangeError(`class histogram: ${realCounts.length} real class counts for ${p.classes} classes`);
  }
  const realTotal = realCounts.reduce((a, b) => a + b, 0);
  if (!(realTotal > 0)) throw new RangeError('class histogram: the real class counts add up to 0');
  let tv = 0;
  for (let c = 0; c < p.classes; c++) tv += Math.abs(counts[c]! / p.count - realCounts[c]! / realTotal);
  return { counts, covered, totalVariation: tv / 2 };
}
