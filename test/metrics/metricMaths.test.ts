/**
 * The sample-quality metrics against numpy/scipy: test/fixtures/metrics/metrics.json was written by
 * make_fixture.py beside it (scipy.linalg.sqrtm, numpy eigvals, scipy cdist, scipy rel_entr), from the same
 * rounded inputs the tests read here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  classHistogram,
  featuresFromRows,
  frechetDistance,
  inceptionScore,
  kernelInceptionDistance,
  kidOnSubsets,
  kthNeighbourRadii2,
  mmd2Unbiased,
  precisionRecall,
  symmetricEigen,
  symmetricSqrt,
  type ProbabilitySet,
} from '../../src-main/engine/metrics';

type Rows = number[][];
interface FidCase { a: Rows; b: Rows; fid_sqrtm: number; fid_eigvals: number; offset_used: boolean }
interface Fixture {
  cases: {
    fid_full_rank: FidCase;
    fid_rank_deficient: FidCase;
    fid_same_set: FidCase;
    kid: { a: Rows; b: Rows; subsets: { a: number[]; b: number[] }[]; mmd2_whole: number; subset_values: number[]; mean: number; std: number };
    precision_recall: { real: Rows; fake: Rows; k: number; precision: number; recall: number; real_radii: number[] };
    inception_score: { probs: Rows; splits: number; mean: number; std: number; histogram: number[] };
  };
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/metrics/metrics.json'), 'utf8')) as Fixture;
const c = fixture.cases;

function probabilities(rows: Rows): ProbabilitySet {
  return { count: rows.length, classes: rows[0]!.length, data: rows.flat() };
}

describe('symmetric eigen-decomposition', () => {
  it('reconstructs a symmetric matrix and its square root squares back', () => {
    const d = 5;
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = Math.cos(i * 3 + j) + Math.cos(j * 3 + i) + (i === j ? 4 : 0);
    const { values, vectors } = symmetricEigen(a, d);
    for (let i = 1; i < d; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += vectors[i * d + k]! * values[k]! * vectors[j * d + k]!;
        expect(s).toBeCloseTo(a[i * d + j]!, 12);
      }
    }
    const r = symmetricSqrt(a, d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += r[i * d + k]! * r[k * d + j]!;
        expect(s).toBeCloseTo(a[i * d + j]!, 12);
      }
    }
  });
});

describe('FID against scipy', () => {
  it('full-rank covariances: matches scipy sqrtm (pytorch-fid formula) to 1e-9 relative', () => {
    const r = frechetDistance(featuresFromRows(c.fid_full_rank.a), featuresFromRows(c.fid_full_rank.b));
    expect(r.offsetUsed).toBe(false);
    expect(Math.abs(r.fid - c.fid_full_rank.fid_sqrtm) / c.fid_full_rank.fid_sqrtm).toBeLessThan(1e-9);
  });

  // With singular covariances the true eigenvalues 0 come out of any solver as rounding noise ε ~ 1e-16·scale,
  // and √ε ~ 1e-8 per eigenvalue enters the trace: numpy's eigvals, scipy's sqrtm and the Jacobi path each
  // carry their own noise of that size, so they agree to about 1e-7 relative, not to machine precision.
  it('rank-3 features in 8 dimensions (singular covariances): matches numpy eigvals and scipy sqrtm to 1e-6 relative', () => {
    const r = frechetDistance(featuresFromRows(c.fid_rank_deficient.a), featuresFromRows(c.fid_rank_deficient.b));
    expect(Number.isFinite(r.fid)).toBe(true);
    expect(Math.abs(r.fid - c.fid_rank_deficient.fid_eigvals) / c.fid_rank_deficient.fid_eigvals).toBeLessThan(1e-6);
    expect(Math.abs(r.fid - c.fid_rank_deficient.fid_sqrtm) / c.fid_rank_deficient.fid_sqrtm).toBeLessThan(1e-6);
  });

  it('a singular set against itself gives 0 (within 1e-6 of a trace of about 10)', () => {
    const f = featuresFromRows(c.fid_same_set.a);
    expect(Math.abs(frechetDistance(f, f).fid)).toBeLessThan(1e-6);
    expect(Math.abs(c.fid_same_set.fid_sqrtm)).toBeLessThan(1e-6);
  });

  it('refuses sets of different dimension, too few vectors or non-finite values, naming the problem', () => {
    const a = featuresFromRows([[0, 1], [1, 0], [2, 2]]);
    expect(() => frechetDistance(a, featuresFromRows([[0, 1, 2], [1, 1, 1]]))).toThrow(/dimensions differ \(2 and 3\)/);
    expect(() => frechetDistance(a, featuresFromRows([[0, 1]]))).toThrow(/second set: 1 vectors, this metric needs at least 2/);
    expect(() => frechetDistance(a, featuresFromRows([[0, Number.NaN], [1, 1]]))).toThrow(/NaN in vector 0 is not finite/);
  });
});

describe('KID against numpy', () => {
  const a = featuresFromRows(c.kid.a);
  const b = featuresFromRows(c.kid.b);

  it('unbiased MMD² of the whole sets to 1e-10 relative', () => {
    expect(Math.abs(mmd2Unbiased(a, b) - c.kid.mmd2_whole) / Math.abs(c.kid.mmd2_whole)).toBeLessThan(1e-10);
  });

  it('mean and std over the fixture subsets to 1e-10', () => {
    const r = kidOnSubsets(a, b, c.kid.subsets);
    r.values.forEach((v, i) => expect(v).toBeCloseTo(c.kid.subset_values[i]!, 10));
    expect(r.mean).toBeCloseTo(c.kid.mean, 10);
    expect(r.std).toBeCloseTo(c.kid.std, 10);
  });

  it('near 0 for two disjoint samples of one distribution, larger for a shifted one; seeded subsets are reproducible', () => {
    const firstHalf = featuresFromRows(c.kid.a.slice(0, 30));
    const secondHalf = featuresFromRows(c.kid.a.slice(30));
    const same = kernelInceptionDistance(firstHalf, secondHalf, { subsets: 5, subsetSize: 20, seed: 1 });
    const shifted = kernelInceptionDistance(b, secondHalf, { subsets: 5, subsetSize: 20, seed: 1 });
    expect(Math.abs(same.mean)).toBeLessThan(shifted.mean / 5);
    expect(kernelInceptionDistance(b, secondHalf, { subsets: 5, subsetSize: 20, seed: 1 }).values).toEqual(shifted.values);
    expect(() => kernelInceptionDistance(a, b, { subsetSize: 51 })).toThrow(/subset size 51 .* \(50\)/);
  });
});

describe('precision and recall against scipy (k = 3)', () => {
  it('matches the k-th neighbour radii and both shares exactly', () => {
    const real = featuresFromRows(c.precision_recall.real);
    const fake = featuresFromRows(c.precision_recall.fake);
    const radii = Array.from(kthNeighbourRadii2(real, 3), Math.sqrt);
    radii.forEach((v, i) => expect(v).toBeCloseTo(c.precision_recall.real_radii[i]!, 10));
    const r = precisionRecall(real, fake, 3);
    expect(r.precision).toBe(c.precision_recall.precision);
    expect(r.recall).toBe(c.precision_recall.recall);
    // The fixture's generated set is narrower than the real one: realistic but not covering.
    expect(r.precision).toBeGreaterThan(r.recall);
  });
});

describe('Inception-Score analogue and class histogram against scipy', () => {
  const p = probabilities(c.inception_score.probs);

  it('mean ± std over 5 splits to 1e-10, including a row with exact zeros', () => {
    const r = inceptionScore(p, c.inception_score.splits);
    expect(r.mean).toBeCloseTo(c.inception_score.mean, 10);
    expect(r.std).toBeCloseTo(c.inception_score.std, 10);
  });

  it('is 1 for identical rows and the class count for confident, evenly spread classes', () => {
    expect(inceptionScore({ count: 4, classes: 2, data: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5] }, 1).mean).toBeCloseTo(1, 12);
    expect(inceptionScore({ count: 3, classes: 3, data: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, 1).mean).toBeCloseTo(3, 12);
  });

  it('counts arg-max classes like numpy.bincount and measures the distance from real shares', () => {
    const h = classHistogram(p, new Array(10).fill(1));
    expect(h.counts).toEqual(c.inception_score.histogram);
    expect(h.covered).toBe(c.inception_score.histogram.filter((x) => x > 0).length);
    const tv = c.inception_score.histogram.reduce((s, x) => s + Math.abs(x / 100 - 0.1), 0) / 2;
    expect(h.totalVariation!).toBeCloseTo(tv, 12);
    const collapsed = classHistogram({ count: 2, classes: 3, data: [0.9, 0.1, 0, 0.8, 0.2, 0] }, [1, 1, 1]);
    expect(collapsed).toEqual({ counts: [2, 0, 0], covered: 1, totalVariation: 2 / 3 });
  });

  it('refuses rows that are not probabilities', () => {
    expect(() => inceptionScore({ count: 1, classes: 2, data: [0.5, 0.6] }, 1)).toThrow(/row 0 sums to 1.1/);
  });
});
