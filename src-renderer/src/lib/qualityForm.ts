/**
 * The Evaluate view's "Sample quality" section without the DOM: what is wrong with the form, what a job or a
 * sweep will cost before it starts, and the sweep as chart lines (FID vs sampling steps, one per sampler).
 */
import { skipFractionProblem, stepsAfterSkip } from '../../../src-shared/diffusion/skipFraction';
import { spaceTimesteps } from '../../../src-shared/diffusion/respacing';
import type { QualityResult, SamplerName } from '../../../src-shared/protocol';
import type { QualityMetric } from '../../../src-shared/qualityMetrics';
import { parseSweepSteps, sweepPoints, type SweepPoint } from '../../../src-shared/qualitySweep';
import { describeCost, SAMPLE_COUNT_MAX } from './runChoice';
import { fmtInt } from './format';

export interface QualityForm {
  metrics: QualityMetric[];
  count: number;
  sampler: SamplerName;
  steps: number;
  /** 'single': one job at `steps`; 'sweep': every K of `sweepSteps` and the full chain, both samplers. */
  mode: 'single' | 'sweep';
  sweepSteps: string;
  skipFraction: number;
}

/** The points the form would run, or the problem in the user's words (the field first). */
export function qualityPlan(f: QualityForm, T: number): { points: SweepPoint[] } | { problem: string } {
  if (f.metrics.length === 0) return { problem: 'Metrics: pick at least one.' };
  if (!Number.isInteger(f.count) || f.count < 4) return { problem: 'Images to sample must be a whole number ≥ 4.' };
  if (f.count > SAMPLE_COUNT_MAX) return { problem: `Images to sample must be ≤ ${fmtInt(SAMPLE_COUNT_MAX)} (the most one sampling job draws).` };
  const skip = skipFractionProblem(f.skipFraction, T);
  if (skip) return { problem: `Skip fraction: ${skip.replace(/^skipFraction /, '')}.` };
  const left = stepsAfterSkip(T, f.skipFraction);
  if (f.mode === 'sweep') {
    try {
      return { points: sweepPoints(parseSweepSteps(f.sweepSteps, 'Sweep steps'), T, { skipFraction: f.skipFraction, field: 'Sweep steps' }) };
    } catch (e) {
      return { problem: `${(e as Error).message}.` };
    }
  }
  if (!Number.isInteger(f.steps) || f.steps < 1) return { problem: 'Sampling steps must be a whole number ≥ 1.' };
  if (f.steps > left) return { problem: `Sampling steps must be ≤ ${fmtInt(left)} (${left === T ? "the model's T" : 'the steps left after skipping'}).` };
  if (f.sampler === 'ddim') {
    try {
      spaceTimesteps(left, `ddim${f.steps}`);
    } catch {
      return { problem: `DDIM cannot take exactly ${f.steps} of ${left} steps with an even stride: pick a step count that divides ${left}.` };
    }
  }
  return { points: [{ sampler: f.sampler, steps: f.steps, fullChain: f.steps === left }] };
}

/** "256 images × 4 points, 170 steps in all = … network passes ≈ …", plus the classifier's first training. */
export function qualityCost(points: readonly SweepPoint[], count: number, trainSamplesPerSec: number | null, classifierCached: boolean): string {
  const calls = points.reduce((a, p) => a + p.steps, 0);
  const label = points.length === 1 ? `${fmtInt(calls)} steps` : `${points.length} points, ${fmtInt(calls)} steps in all`;
  const head = describeCost(count, calls, label, trainSamplesPerSec);
  return classifierCached ? head : `${head}; first the dataset's classifier is trained (once, about a minute on the bundled digits)`;
}

/** Sweeps of a run, newest first: id, when, and how many points have results. */
export function sweepsOf(results: readonly QualityResult[]): { id: string; createdAt: number; points: number }[] {
  const by = new Map<string, { id: string; createdAt: number; points: number }>();
  for (const r of results) {
    if (!r.sweepId) continue;
    const s = by.get(r.sweepId) ?? { id: r.sweepId, createdAt: r.createdAt, points: 0 };
    s.createdAt = Math.min(s.createdAt, r.createdAt);
    s.points += 1;
    by.set(r.sweepId, s);
  }
  return [...by.values()].sort((a, b) => b.createdAt - a.createdAt);
}

/** FID vs sampling steps of one sweep, one line per sampler, steps ascending. */
export function sweepLines(results: readonly QualityResult[], sweepId: string): { label: string; x: number[]; y: number[]; color: string }[] {
  const colors: Record<SamplerName, string> = { ancestral: '#0072B2', ddim: '#D55E00' };
  const labels: Record<SamplerName, string> = { ancestral: 'ancestral (respaced)', ddim: 'DDIM (η = 0)' };
  const lines: { label: string; x: number[]; y: number[]; color: string }[] = [];
  for (const sampler of ['ancestral', 'ddim'] as const) {
    const pts = results
      .filter((r) => r.sweepId === sweepId && r.sampler === sampler && typeof r.report.fid === 'number')
      .sort((a, b) => a.steps - b.steps);
    if (pts.length) lines.push({ label: labels[sampler], x: pts.map((r) => r.steps), y: pts.map((r) => r.report.fid!), color: colors[sampler] });
  }
  return lines;
}

/** The phase of a quality job in words. */
export function phaseLabel(phase: string | null | undefined): string {
  if (phase === 'classifier') return "training the dataset's classifier";
  if (phase === 'sampling') return 'sampling';
  if (phase === 'features') return 'measuring (classifier features)';
  return 'starting';
}
