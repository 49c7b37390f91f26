/**
 * Noise schedules β_t in float64 (SPEC §1).
 *
 * The arithmetic mirrors the reference (numpy linspace, python math.cos) operation by operation,
 * because the golden values are compared at ~1e-12 relative.
 */
import type { ScheduleName } from './types';

/** Largest β the cosine schedule allows; only its last step reaches it at T = 1000 or 4000. */
export const COSINE_MAX_BETA = 0.999;

/** Small offset s of the cosine schedule, keeping β_0 from being vanishingly small. */
const COSINE_OFFSET = 0.008;

/** β_t for t = 0…T−1 of the named schedule. */
export function betaSchedule(name: ScheduleName, numSteps: number): Float64Array {
  if (!Number.isInteger(numSteps) || numSteps < 2) {
    throw new Error(`diffusion steps T must be an integer ≥ 2, got ${numSteps}`);
  }
  switch (name) {
    case 'linear':
      return linearBetas(numSteps);
    case 'cosine':
      return cosineBetas(numSteps);
    default:
      throw new Error(`unknown noise schedule '${String(name)}' (use 'linear' or 'cosine')`);
  }
}

/**
 * linspace(1e-4·s, 0.02·s, T) with s = 1000/T, endpoints inclusive.
 * numpy computes start + i·step and then writes the end point exactly; we do the same.
 */
function linearBetas(numSteps: number): Float64Array {
  const scale = 1000 / numSteps;
  const start = scale * 0.0001;
  const end = scale * 0.02;
  const step = (end - start) / (numSteps - 1);
  const betas = new Float64Array(numSteps);
  for (let i = 0; i < numSteps; i++) betas[i] = i * step + start;
  betas[numSteps - 1] = end;
  return betas;
}

/** ᾱ(τ) of the cosine schedule, before normalisation: cos²(((τ+s)/(1+s))·π/2). */
function cosineAlphaBar(tau: number): number {
  return Math.cos(((tau + COSINE_OFFSET) / (1 + COSINE_OFFSET)) * Math.PI / 2) ** 2;
}

/** β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), 0.999). */
function cosineBetas(numSteps: number): Float64Array {
  const betas = new Float64Array(numSteps);
  for (let i = 0; i < numSteps; i++) {
    const t1 = i / numSteps;
    const t2 = (i + 1) / numSteps;
    betas[i] = Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), COSINE_MAX_BETA);
  }
  return betas;
}
