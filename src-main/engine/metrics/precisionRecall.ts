/**
 * Improved precision and recall (Kynkäänniemi et al. 2019). Each set's manifold is approximated by the
 * union of balls around its points, the radius of a ball being the distance to the point's k-th nearest
 * neighbour in its own set (k = 3, the point itself not counted).
 *   precision = share of generated vectors inside at least one real ball (are samples realistic?)
 *   recall    = share of real vectors inside at least one generated ball (is the data covered?)
 * A point exactly on a ball's surface counts as inside. Exact pairwise distances: O(N·M·d).
 */
import { checkFeatures, type FeatureSet } from './features';

function squaredDistances(a: FeatureSet, b: FeatureSet): Float64Array {
  const d = a.dim;
  const out = new Float64Array(a.count * b.count);
  for (let i = 0; i < a.count; i++) {
    for (let j = 0; j < b.count; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const diff = a.data[i * d + k]! - b.data[j * d + k]!;
        s += diff * diff;
      }
      out[i * b.count + j] = s;
    }
  }
  return out;
}

/** Squared distance of each vector to its k-th nearest neighbour in the same set. */
export function kthNeighbourRadii2(f: FeatureSet, k: number): Float64Array {
  const dist = squaredDistances(f, f);
  const radii = new Float64Array(f.count);
  const row = new Float64Array(f.count);
  for (let i = 0; i < f.count; i++) {
    row.set(dist.subarray(i * f.count, (i + 1) * f.count));
    row.sort();
    radii[i] = row[k]!; // row[0] is the point itself (distance 0)
  }
  return radii;
}

/** Share of `points` that fall inside at least one ball (centre `centres[j]`, squared radius radii2[j]). */
function coverage(points: FeatureSet, centres: FeatureSet, radii2: Float64Array): number {
  const dist = squaredDistances(points, centres);
  let inside = 0;
  for (let i = 0; i < points.count; i++) {
    for (let j = 0; j < centres.count; j++) {
      if (dist[i * centres.count + j]! <= radii2[j]!) {
        inside += 1;
        break;
      }
    }
  }
  return inside / points.count;
}

export interface PrecisionRecall {
  readonly precision: number;
  readonly recall: number;
  readonly k: number;
}

export function precisionRecall(real: FeatureSet, generated: FeatureSet, k = 3): PrecisionRecall {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`precision/recall: k ${k} must be a whole number ≥ 1`);
  checkFeatures(real, 'precision/recall, real set', k + 1);
  checkFeatures(generated, 'precision/recall, generated set', k + 1);
  if (real.dim !== generated.dim) {
    throw new RangeError(`precision/recall: feature dimensions differ (${real.dim} and ${generated.dim})`);
  }
  return {
    precision: coverage(generated, real, kthNeighbourRadii2(real, k)),
    recall: coverage(real, generated, kthNeighbourRadii2(generated, k)),
    k,
  };
}
