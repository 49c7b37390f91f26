/**
 * The Inception Score's formula (Salimans et al. 2016) applied to the studio's own classifier:
 *   IS = exp( E_x KL( p(y|x) ‖ p(y) ) ),  p(y) = the mean of p(y|x) over the split,
 * computed per split of consecutive rows and reported as mean ± std (divisor = number of splits, as the
 * original code's np.std). It is high when each sample is confidently one class and the classes are used
 * evenly; at most the number of classes. 0·log 0 counts as 0.
 */
export interface ProbabilitySet {
  readonly count: number;
  readonly classes: number;
  /** count × classes values, rows summing to 1. */
  readonly data: ArrayLike<number>;
}

export function checkProbabilities(p: ProbabilitySet, what: string): void {
  if (p.data.length !== p.count * p.classes || p.classes < 1) {
    throw new RangeError(`${what}: ${p.data.length} values for ${p.count} rows of ${p.classes} classes`);
  }
  for (let i = 0; i < p.count; i++) {
    let s = 0;
    for (let c = 0; c < p.classes; c++) {
      const v = p.data[i * p.classes + c]!;
      if (!(v >= 0 && v <= 1)) throw new RangeError(`${what}: row ${i} holds ${v}, not a probability`);
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) throw new RangeError(`${what}: row ${i} sums to ${s}, not 1`);
  }
}

export interface InceptionScore {
  readonly mean: number;
  readonly std: number;
  readonly splits: number;
}

export function inceptionScore(p: ProbabilitySet, splits = 10): InceptionScore {
  checkProbabilities(p, 'Inception Score');
  if (!Number.isInteger(splits) || splits < 1 || splits > p.count) {
    throw new RangeError(`Inception Score: splits ${splits} must be a whole number from 1 to the image count (${p.count})`);
  }
  const C = p.classes;
  const per = Math.floor(p.count / splits);
  const scores: number[] = [];
  for (let s = 0; s < splits; s++) {
    const start = s * per;
    const py = new Float64Array(C);
    for (let i = start; i < start + per; i++) for (let c = 0; c < C; c++) py[c]! += p.data[i * C + c]!;
    for (let c = 0; c < C; c++) py[c]! /= per;
    let kl = 0;
    for (let i = start; i < start + per; i++) {
      for (let c = 0; c < C; c++) {
        const v = p.data[i * C + c]!;
        if (v > 0) kl += v * (Math.log(v) - Math.log(py[c]!));
      }
    }
    scores.push(Math.exp(kl / per));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / splits);
  return { mean, std, splits };
}
