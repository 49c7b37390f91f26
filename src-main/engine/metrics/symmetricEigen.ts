/**
 * Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method, in float64.
 *
 * Jacobi is slow for large matrices (O(d³) per sweep, ~6–10 sweeps) but the feature dimensions here are
 * small (≤ a few hundred) and it is accurate to working precision even for (nearly) singular matrices,
 * which is what the FID's matrix square root needs: eigenvalues near zero come out near zero, not as the
 * large complex parts a general sqrtm can produce.
 */
export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  readonly values: Float64Array;
  /** Eigenvectors as columns of a d×d row-major matrix: column j belongs to values[j]. */
  readonly vectors: Float64Array;
}

const MAX_SWEEPS = 100;

/** `a` is d×d row-major and must be symmetric (only its upper triangle is read); it is not modified. */
export function symmetricEigen(a: ArrayLike<number>, d: number): SymmetricEigen {
  if (a.length !== d * d) throw new RangeError(`matrix has ${a.length} values, expected ${d}×${d}`);
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      m[i * d + j] = a[i * d + j]!;
      m[j * d + i] = a[i * d + j]!;
    }
  }
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;

  let scale = 0;
  for (let i = 0; i < d * d; i++) scale = Math.max(scale, Math.abs(m[i]!));
  const tiny = scale * Number.EPSILON * 1e-3;

  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off = Math.max(off, Math.abs(m[p * d + q]!));
    if (off <= tiny) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q]!;
        if (Math.abs(apq) <= tiny) continue;
        const app = m[p * d + p]!;
        const aqq = m[q * d + q]!;
        // The rotation angle that zeroes a[p][q]: t = tan θ, the smaller root (Golub & Van Loan 8.4).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = m[k * d + p]!;
          const akq = m[k * d + q]!;
          m[k * d + p] = c * akp - s * akq;
          m[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = m[p * d + k]!;
          const aqk = m[q * d + k]!;
          m[p * d + k] = c * apk - s * aqk;
          m[q * d + k] = s * apk + c * aqk;
        }
        m[p * d + q] = 0;
        m[q * d + p] = 0;
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!;
          const vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }

  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => m[i * d + i]! - m[j * d + j]!);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((src, dst) => {
    values[dst] = m[src * d + src]!;
    for (let k = 0; k < d; k++) vectors[k * d + dst] = v[k * d + src]!;
  });
  return { values, vectors };
}

/**
 * The symmetric positive semi-definite square root V·diag(√max(λ,0))·Vᵀ of a symmetric matrix
 * (eigenvalues below zero are rounding noise of a PSD matrix and are treated as zero).
 */
export function symmetricSqrt(a: ArrayLike<number>, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, d);
  const roots = Array.from(values, (x) => Math.sqrt(Math.max(x, 0)));
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += vectors[i * d + k]! * roots[k]! * vectors[j * d + k]!;
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  }
  return out;
}

/** c = a·b for d×d row-major matrices. */
export function matMul(a: ArrayLike<number>, b: ArrayLike<number>, d: number): Float64Array {
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) c[i * d + j]! += aik * b[k * d + j]!;
    }
  }
  return c;
}
