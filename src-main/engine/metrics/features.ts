/**
 * A set of feature vectors (one row per image), the input of every sample-quality metric here.
 * Pure float64 maths; nothing in this folder touches tfjs, so the metrics can be checked against numpy.
 */
export interface FeatureSet {
  /** Number of vectors (rows). */
  readonly count: number;
  /** Length of each vector. */
  readonly dim: number;
  /** count × dim values, row-major. Float32 (as a network gives them) or float64. */
  readonly data: ArrayLike<number>;
}

/** A FeatureSet from an array of rows (tests, fixtures); every row must have the same length. */
export function featuresFromRows(rows: readonly (readonly number[])[]): FeatureSet {
  const count = rows.length;
  const dim = count > 0 ? rows[0]!.length : 0;
  const data = new Float64Array(count * dim);
  rows.forEach((row, i) => {
    if (row.length !== dim) throw new RangeError(`feature row ${i} has ${row.length} values, row 0 has ${dim}`);
    data.set(row, i * dim);
  });
  return { count, dim, data };
}

/** Throws a RangeError naming `what` when the set is malformed, too small, or holds a non-finite value. */
export function checkFeatures(f: FeatureSet, what: string, minCount: number): void {
  if (!Number.isInteger(f.count) || !Number.isInteger(f.dim) || f.dim < 1) {
    throw new RangeError(`${what}: ${f.count} vectors of dimension ${f.dim} is not a feature set`);
  }
  if (f.data.length !== f.count * f.dim) {
    throw new RangeError(`${what}: ${f.data.length} values for ${f.count} vectors of dimension ${f.dim}`);
  }
  if (f.count < minCount) {
    throw new RangeError(`${what}: ${f.count} vectors, this metric needs at least ${minCount}`);
  }
  for (let i = 0; i < f.data.length; i++) {
    if (!Number.isFinite(f.data[i]!)) {
      throw new RangeError(`${what}: value ${f.data[i]} in vector ${Math.floor(i / f.dim)} is not finite`);
    }
  }
}

/** The rows listed in `indices`, as a new set. */
export function selectRows(f: FeatureSet, indices: ArrayLike<number>): FeatureSet {
  const out = new Float64Array(indices.length * f.dim);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    if (!Number.isInteger(i) || i < 0 || i >= f.count) throw new RangeError(`row index ${i} is outside 0..${f.count - 1}`);
    for (let k = 0; k < f.dim; k++) out[r * f.dim + k] = f.data[i * f.dim + k]!;
  }
  return { count: indices.length, dim: f.dim, data: out };
}

/** Mean vector and covariance (divisor count − 1, as numpy.cov) of the rows, in float64. */
export function meanAndCovariance(f: FeatureSet): { mean: Float64Array; cov: Float64Array } {
  const { count: n, dim: d, data } = f;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k]! += data[i * d + k]!;
  for (let k = 0; k < d; k++) mean[k]! /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) row[k] = data[i * d + k]! - mean[k]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b]! += ra * row[b]!;
    }
  }
  const div = n - 1;
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b]! / div;
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { mean, cov };
}
