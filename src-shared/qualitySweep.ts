/**
 * Quality vs sampling steps (the paper's Figure 8): which (sampler, K) points a sweep measures, shared by
 * `iddpm eval --sweep-steps` and the run service's startQualitySweep so both run the same sweep.
 *
 * A sweep measures every given K and the full chain (all steps the model has, after any skipFraction), each
 * with respaced ancestral sampling ("K" sections) and DDIM with η = 0 ("ddimK"), unless told other samplers.
 */
import { spaceTimesteps } from './diffusion/respacing';
import { stepsAfterSkip } from './diffusion/skipFraction';
import type { QualityReport } from './protocol';

export type SweepSampler = 'ancestral' | 'ddim';
export const SWEEP_SAMPLERS: readonly SweepSampler[] = ['ancestral', 'ddim'];

export interface SweepPoint {
  sampler: SweepSampler;
  /** Sampling steps K. */
  steps: number;
  /** True for the point at the full chain (K = T, or ⌊(1−f)·T⌋ with a skip fraction). */
  fullChain: boolean;
}

/** "10,25,50,100" → [10, 25, 50, 100]; errors name `field` and say what to write. */
export function parseSweepSteps(text: string, field = '--sweep-steps'): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.every((p) => p === '')) throw new RangeError(`${field} is empty: give step counts such as 10,25,50,100`);
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new RangeError(`${field}: '${p}' is not a whole number of steps; give step counts such as 10,25,50,100`);
    return Number(p);
  });
}

/**
 * The points of a sweep over `stepCounts` on a model of `numSteps` (T) steps, K ascending, ancestral
 * before DDIM at each K. Refuses (naming `field`) counts that are not positive whole numbers, repeated,
 * above T (or above the steps a skipFraction leaves), and a K no integer DDIM stride gives exactly.
 */
export function sweepPoints(
  stepCounts: readonly number[],
  numSteps: number,
  opts: { samplers?: readonly SweepSampler[]; skipFraction?: number; field?: string } = {},
): SweepPoint[] {
  const field = opts.field ?? '--sweep-steps';
  const samplers = opts.samplers ?? SWEEP_SAMPLERS;
  const full = stepsAfterSkip(numSteps, opts.skipFraction ?? 0);
  const fullWhat = full === numSteps ? `the model's diffusion steps T = ${numSteps}` : `the ${full} steps left after skipping (T = ${numSteps})`;
  if (stepCounts.length === 0) throw new RangeError(`${field} is empty: give step counts such as 10,25,50,100`);
  const seen = new Set<number>();
  for (const k of stepCounts) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`${field}: ${k} is not a positive whole number of steps`);
    if (seen.has(k)) throw new RangeError(`${field}: ${k} is given twice; give each step count once`);
    if (k > full) throw new RangeError(`${field}: ${k} is more than ${fullWhat}; use at most ${full} (the full chain is always measured)`);
    seen.add(k);
  }
  seen.add(full);
  const ks = [...seen].sort((a, b) => a - b);
  const points: SweepPoint[] = [];
  for (const k of ks) {
    for (const sampler of samplers) {
      if (sampler === 'ddim') {
        try {
          spaceTimesteps(full, `ddim${k}`);
        } catch {
          throw new RangeError(`${field}: DDIM cannot take exactly ${k} of ${full} steps with an even stride; choose a K with ⌈${full}/stride⌉ = K (e.g. a divisor of ${full})`);
        }
      }
      points.push({ sampler, steps: k, fullChain: k === full });
    }
  }
  return points;
}

/** One measured point of a sweep: what the CSV, the table and the chart show. */
export interface SweepRow {
  sampler: SweepSampler;
  steps: number;
  fullChain: boolean;
  report: Pick<QualityReport, 'fid' | 'kid' | 'precision' | 'recall' | 'inceptionScore'>;
}

const COLUMNS: { name: string; value: (r: SweepRow) => number | undefined; digits: number }[] = [
  { name: 'fid', value: (r) => r.report.fid, digits: 3 },
  { name: 'kid_mean', value: (r) => r.report.kid?.mean, digits: 6 },
  { name: 'kid_std', value: (r) => r.report.kid?.std, digits: 6 },
  { name: 'precision', value: (r) => r.report.precision, digits: 3 },
  { name: 'recall', value: (r) => r.report.recall, digits: 3 },
  { name: 'is_mean', value: (r) => r.report.inceptionScore?.mean, digits: 3 },
  { name: 'is_std', value: (r) => r.report.inceptionScore?.std, digits: 3 },
];

/** The metric columns some row has (a sweep of FID only has no KID columns). */
function present(rows: readonly SweepRow[]) {
  return COLUMNS.filter((c) => rows.some((r) => c.value(r) !== undefined));
}

/** sampler,steps,full_chain,<metrics…> with full-precision numbers (empty where a metric was not asked). */
export function sweepCsv(rows: readonly SweepRow[]): string {
  const cols = present(rows);
  const lines = [['sampler', 'steps', 'full_chain', ...cols.map((c) => c.name)].join(',')];
  for (const r of rows) lines.push([r.sampler, r.steps, r.fullChain, ...cols.map((c) => c.value(r) ?? '')].join(','));
  return `${lines.join('\n')}\n`;
}

/** The same as an aligned text table for a terminal. */
export function sweepTable(rows: readonly SweepRow[]): string {
  const cols = present(rows);
  const header = ['sampler', 'steps', ...cols.map((c) => c.name)];
  const body = rows.map((r) => [r.sampler, `${r.steps}${r.fullChain ? ' (T)' : ''}`, ...cols.map((c) => {
    const v = c.value(r);
    return v === undefined ? '' : c.digits > 3 ? v.toExponential(2) : v.toFixed(c.digits);
  })]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return `${[header, ...body].map((line) => line.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n')}\n`;
}
