/**
 * Kernel Inception Distance (Bińkowski et al. 2018) on any feature set: the unbiased estimate of the squared
 * maximum mean discrepancy with the cubic polynomial kernel k(x, y) = (x·y / d + 1)³,
 *
 *   MMD²ᵤ = Σ_{i≠j} k(xᵢ,xⱼ) / (m(m−1)) + Σ_{i≠j} k(yᵢ,yⱼ) / (n(n−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ) / (mn),
 *
 * averaged over random subsets, reported as mean ± std (std with divisor s, as torch-fidelity does). Being
 * unbiased it can be used at small N (it may come out slightly negative when the sets match), unlike FID,
 * whose bias grows as N shrinks.
 */
import { checkFeatures, selectRows, type FeatureSet } from './features';

function kernelSum(a: FeatureSet, b: FeatureSet, skipDiagonal: boolean): number {
  const d = a.dim;
  let sum = 0;
  for (let i = 0; i < a.count; i++) {
    for (let j = 0; j < b.count; j++) {
      if (skipDiagonal && i === j) continue;
      let dot = 0;
      for (let k = 0; k < d; k++) dot += a.data[i * d + k]! * b.data[j * d + k]!;
      const base = dot / d + 1;
      sum += base * base * base;
    }
  }
  return sum;
}

/** Unbiased MMD² between two sets (each at least 2 vectors) with the cubic polynomial kernel. */
export function mmd2Unbiased(x: FeatureSet, y: FeatureSet): number {
  checkFeatures(x, 'KID, generated set', 2);
  checkFeatures(y, 'KID, real set', 2);
  if (x.dim !== y.dim) throw new RangeError(`KID: feature dimensions differ (${x.dim} and ${y.dim})`);
  const m = x.count;
  const n = y.count;
  return (
    kernelSum(x, x, true) / (m * (m - 1)) + kernelSum(y, y, true) / (n * (n - 1)) - (2 * kernelSum(x, y, false)) / (m * n)
  );
}

export interface KidResult {
  readonly mean: number;
  readonly std: number;
  /** MMD² of each subset. */
  readonly values: readonly number[];
  readonly subsetSize: number;
}

export interface SubsetPick {
  readonly a: ArrayLike<number>;
  readonly b: ArrayLike<number>;
}

/** KID over the given subsets (row indices into a and b). */
export function kidOnSubsets(a: FeatureSet, b: FeatureSet, subsets: readonly SubsetPick[]): KidResult {
  if (subsets.length === 0) throw new RangeError('KID: no subsets to average over');
  const values = subsets.map((s) => mmd2Unbiased(selectRows(a, s.a), selectRows(b, s.b)));
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  return { mean, std, values, subsetSize: subsets[0]!.a.length };
}

/** A seeded 32-bit generator (mulberry32) for reproducible subset picks. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` distinct indices of 0..n−1 (partial Fisher–Yates). */
function pick(n: number, size: number, rand: () => number): Uint32Array {
  const idx = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, size);
}

export interface KidOptions {
  /** Number of random subsets (default 10). */
  subsets?: number;
  /** Vectors drawn from each set per subset (default min(1000, both counts)). */
  subsetSize?: number;
  seed?: number;
}

/** KID of generated features `a` against real features `b`, mean ± std over seeded random subsets. */
export function kernelInceptionDistance(a: FeatureSet, b: FeatureSet, options: KidOptions = {}): KidResult {
  const size = options.subsetSize ?? Math.min(1000, a.count, b.count);
  const count = options.subsets ?? 10;
  if (!Number.isInteger(size) || size < 2 || size > a.count || size > b.count) {
    throw new RangeError(
      `KID: subset size ${size} must be a whole number from 2 to the smaller set's count (${Math.min(a.count, b.count)})`,
    );
  }
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`KID: subsets ${count} must be a whole number ≥ 1`);
  const rand = mulberry32(options.seed ?? 0);
  const subsets: SubsetPick[] = [];
  for (let s = 0; s < count; s++) subsets.push({ a: pick(a.count, size, rand), b: pick(b.count, size, rand) });
  return kidOnSubsets(a, b, subsets);
}
