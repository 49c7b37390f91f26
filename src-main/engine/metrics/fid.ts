/**
 * Fréchet distance between two feature sets, each summarised by its mean μ and covariance Σ:
 *
 *   FID = |μ1 − μ2|² + tr Σ1 + tr Σ2 − 2 tr √(Σ1 Σ2)
 *
 * The trace of the matrix square root is computed from the symmetric form √Σ1 · Σ2 · √Σ1: it has the same
 * eigenvalues as Σ1 Σ2 (AB and BA share their spectrum, with A = √Σ1, B = √Σ1 Σ2), and being symmetric
 * PSD its eigenvalues are real and ≥ 0 up to rounding, so tr √(Σ1 Σ2) = Σ √λᵢ with a symmetric Jacobi
 * solver. That stays accurate when the covariances are singular (fewer images than feature dimensions, or
 * features of low rank), where a general sqrtm of Σ1 Σ2 can return large imaginary parts. As pytorch-fid
 * does after scipy's sqrtm, a result that is not finite is retried with ε·I added to both covariances.
 */
import { checkFeatures, meanAndCovariance, type FeatureSet } from './features';
import { matMul, symmetricEigen, symmetricSqrt } from './symmetricEigen';

export interface FidResult {
  readonly fid: number;
  /** Whether ε·I had to be added to the covariances (pytorch-fid's fallback). */
  readonly offsetUsed: boolean;
}

/** The offset pytorch-fid adds when the square root is not finite. */
export const FID_EPS = 1e-6;

/** tr √(Σ1 Σ2) for symmetric PSD d×d matrices. */
export function traceSqrtProduct(s1: ArrayLike<number>, s2: ArrayLike<number>, d: number): number {
  const r1 = symmetricSqrt(s1, d);
  const m = matMul(matMul(r1, s2, d), r1, d);
  const { values } = symmetricEigen(m, d);
  let tr = 0;
  for (const v of values) tr += Math.sqrt(Math.max(v, 0));
  return tr;
}

function withOffset(s: Float64Array, d: number, eps: number): Float64Array {
  const out = Float64Array.from(s);
  for (let i = 0; i < d; i++) out[i * d + i]! += eps;
  return out;
}

/** FID between two feature sets of the same dimension (each needs at least 2 vectors for a covariance). */
export function frechetDistance(a: FeatureSet, b: FeatureSet): FidResult {
  checkFeatures(a, 'FID, first set', 2);
  checkFeatures(b, 'FID, second set', 2);
  if (a.dim !== b.dim) throw new RangeError(`FID: feature dimensions differ (${a.dim} and ${b.dim})`);
  const d = a.dim;
  const sa = meanAndCovariance(a);
  const sb = meanAndCovariance(b);
  let diff2 = 0;
  for (let k = 0; k < d; k++) diff2 += (sa.mean[k]! - sb.mean[k]!) ** 2;
  let tr1 = 0;
  let tr2 = 0;
  for (let k = 0; k < d; k++) {
    tr1 += sa.cov[k * d + k]!;
    tr2 += sb.cov[k * d + k]!;
  }
  let trSqrt = traceSqrtProduct(sa.cov, sb.cov, d);
  let offsetUsed = false;
  if (!Number.isFinite(trSqrt)) {
    trSqrt = traceSqrtProduct(withOffset(sa.cov, d, FID_EPS), withOffset(sb.cov, d, FID_EPS), d);
    offsetUsed = true;
  }
  return { fid: diff2 + tr1 + tr2 - 2 * trSqrt, offsetUsed };
}
