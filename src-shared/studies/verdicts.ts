/**
 * The arithmetic of a study's verdicts: pure functions over the numbers a report reads from its runs, so each
 * verdict line is computed from data (and unit-tested), never written in advance.
 *
 * The rule for a claim that compares two series point by point ("cosine NLL below linear"): it holds when the
 * claimed relation is seen at more than half of the common points AND at the last one (where training has
 * gone furthest); it does not hold otherwise; with fewer than `minPoints` common points there is not enough
 * data to say.
 */
import type { VerdictOutcome } from '../protocol';

export interface XY {
  x: readonly number[];
  y: readonly number[];
}

export interface PairedPoint {
  x: number;
  a: number;
  b: number;
}

/** The points where both series have a finite value, in increasing x. */
export function pairAtCommonX(a: XY, b: XY): PairedPoint[] {
  const bAt = new Map<number, number>();
  b.x.forEach((x, i) => {
    if (Number.isFinite(b.y[i])) bAt.set(x, b.y[i]);
  });
  const out: PairedPoint[] = [];
  a.x.forEach((x, i) => {
    const bv = bAt.get(x);
    if (bv !== undefined && Number.isFinite(a.y[i])) out.push({ x, a: a.y[i], b: bv });
  });
  return out.sort((p, q) => p.x - q.x);
}

export interface Comparison {
  /** Points where `a` is on the claimed side of `b`. */
  agree: number;
  total: number;
  last: PairedPoint | null;
  lastAgrees: boolean;
}

/** How often a is below (or above) b over the paired points. Ties count as not agreeing. */
export function compareSeries(pairs: readonly PairedPoint[], aShouldBe: 'below' | 'above'): Comparison {
  const ok = (p: PairedPoint) => (aShouldBe === 'below' ? p.a < p.b : p.a > p.b);
  const last = pairs.at(-1) ?? null;
  return { agree: pairs.filter(ok).length, total: pairs.length, last, lastAgrees: last !== null && ok(last) };
}

/** holds / does not hold / not enough data, by the rule in this module's comment. */
export function comparisonOutcome(c: Comparison, minPoints = 1): VerdictOutcome {
  if (c.total < minPoints || c.total === 0) return 'not enough data';
  return c.agree * 2 > c.total && c.lastAgrees ? 'holds' : 'does not hold';
}

/** A number for a verdict line: 3 significant digits, plain notation where it reads well. */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  const abs = Math.abs(v);
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

/**
 * "<a> below <b> at 3 of 4 <points> (last: 1.42 vs 1.51 <unit>)". `relation` is the words between the
 * two names, e.g. "NLL below".
 */
export function comparisonLine(aName: string, relation: string, bName: string, c: Comparison, points: string, unit = ''): string {
  if (c.total === 0) return `${aName} ${relation} ${bName}: no common ${points} to compare yet`;
  const u = unit ? ` ${unit}` : '';
  return `${aName} ${relation} ${bName} at ${c.agree} of ${c.total} ${points} (last, at step ${c.last!.x}: ${fmt(c.last!.a)} vs ${fmt(c.last!.b)}${u})`;
}

export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).slice().sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/**
 * How noisy a loss curve is, independent of its level and trend: the robust standard deviation (1.4826 ×
 * median absolute deviation) of log(loss) around its running median over `window` steps. A curve whose
 * values jump by factors from step to step scores high; a smooth decay scores near 0. Null with fewer than
 * `window` positive values.
 */
export function logNoise(values: readonly number[], window = 21): number | null {
  const logs = values.filter((v) => Number.isFinite(v) && v > 0).map(Math.log);
  if (logs.length < window) return null;
  const half = window >> 1;
  const residuals: number[] = [];
  for (let i = half; i < logs.length - half; i++) residuals.push(logs[i] - median(logs.slice(i - half, i + half + 1)));
  return 1.4826 * median(residuals.map(Math.abs));
}

/**
 * The share of a VLB carried by the last `fraction` of the diffusion steps: Σ terms over t ≥ (1 − fraction)·T
 * divided by Σ over all t (terms at strided t are weighted by the stride they stand for, so strided and full
 * snapshots agree). Null when the terms do not sum to a positive value.
 */
export function tailShare(timesteps: readonly number[], terms: readonly number[], numSteps: number, fraction: number): number | null {
  if (timesteps.length === 0 || timesteps.length !== terms.length) return null;
  const order = timesteps.map((t, i) => ({ t, v: terms[i] })).sort((p, q) => p.t - q.t);
  let total = 0;
  let tail = 0;
  order.forEach((p, i) => {
    const next = i + 1 < order.length ? order[i + 1].t : numSteps;
    const weight = next - p.t; // the steps this term stands for
    total += p.v * weight;
    if (p.t >= (1 - fraction) * numSteps) tail += p.v * weight;
  });
  return total > 0 ? tail / total : null;
}

/** The first step at which a sampler's weights over t are not all equal (importance sampling active), or null. */
export function firstNonUniformStep(snapshots: readonly { step: number; weights: readonly number[] }[]): number | null {
  for (const s of [...snapshots].sort((a, b) => a.step - b.step)) {
    const w = s.weights;
    if (w.length > 1 && w.some((v) => Math.abs(v - w[0]) > 1e-9 * Math.max(1, Math.abs(w[0])))) return s.step;
  }
  return null;
}
