/**
 * Axis ticks and their labels, shared by the renderer's Chart.js charts and the PNG charts of a study export.
 *
 * Log axes. Chart.js labels its exact min and max beside the decade ticks, and over a narrow range
 * (a gradient noise scale between 31 and 38) its ticks round to the same two-digit label, so the axis repeats itself.
 * Here: keep the round ticks (1, 2, 5 × 10^k) at least 1/6 of the axis apart when there are two or more, label with
 * the fewest significant digits that tell the ticks apart, and drop any tick whose label would still repeat.
 */

/** A compact label: 0.005, 2e-4, 35, 3.5e+5. */
export function logTickLabel(v: number, digits: number): string {
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return Number(v.toPrecision(digits)).toExponential();
  return String(Number(v.toPrecision(digits)));
}

/** The significant digits (2…6) that give every value its own label. */
export function labelDigits(values: number[]): number {
  for (let d = 2; d <= 6; d++) {
    if (new Set(values.map((v) => logTickLabel(v, d))).size === values.length) return d;
  }
  return 6;
}

/** The tick values to keep, in ascending order, each with a label of its own at `labelDigits(kept)`. */
export function thinLogTicks(values: number[], min: number, max: number): number[] {
  if (values.length < 3 || !(min > 0) || !(max > min)) return dedupe(values);
  const mantissa = (v: number) => v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  const round = values.filter((v) => [1, 2, 5].some((m) => Math.abs(mantissa(v) - m) < 1e-6));
  const source = round.length >= 2 ? round : values;
  const minGap = (Math.log10(max) - Math.log10(min)) / 6;
  const kept: number[] = [];
  for (const v of source) {
    const prev = kept[kept.length - 1];
    if (prev === undefined || Math.log10(v) - Math.log10(prev) >= minGap) kept.push(v);
  }
  return dedupe(kept);
}

/** Drops a tick whose two-to-six-digit label equals its predecessor's (values closer than 1e-6 relative). */
function dedupe(values: number[]): number[] {
  const out: number[] = [];
  for (const v of values) {
    const prev = out[out.length - 1];
    if (prev === undefined || logTickLabel(prev, 6) !== logTickLabel(v, 6)) out.push(v);
  }
  return out;
}

/**
 * A "nice" step (1, 2, 2.5 or 5 × 10^k) near `range / target`. For whole-number data (diffusion steps t, training
 * steps) only whole steps of 1, 2 or 5 × 10^k, so no tick falls between two values the data can take.
 */
export function niceStep(range: number, target: number, integer = false): number {
  const raw = range / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const m = raw / mag;
  if (integer) {
    if (raw <= 1) return 1;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * mag;
  }
  const nice = m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10;
  return nice * mag;
}

/** A linear axis: its ends (the data range widened to whole steps unless fixed) and evenly spaced round ticks. */
export interface LinearAxis {
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

/**
 * About `target` ticks over [lo, hi]. Ends the caller fixes are kept as given; the others are widened to the next
 * whole step so the extreme values sit on gridlines. An empty range (one value) is widened around it.
 */
export function linearAxis(lo: number, hi: number, target: number, fixed: { min?: number; max?: number } = {}, integer = false): LinearAxis {
  let a = fixed.min ?? lo;
  let b = fixed.max ?? hi;
  if (!(b > a)) {
    const pad = a === 0 ? 1 : Math.abs(a) * 0.1;
    if (fixed.min === undefined) a -= pad;
    if (fixed.max === undefined || !(b > a)) b = a + 2 * pad;
  }
  const step = niceStep(b - a, target, integer);
  const min = fixed.min ?? Math.floor(a / step + 1e-9) * step;
  const max = fixed.max ?? Math.ceil(b / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9; k++) ticks.push(cleanZero(k * step));
  return { min, max, step, ticks };
}

/** Decimal places that show every multiple of `step` exactly (2.5 → 1, 0.02 → 2, 500 → 0). */
export function stepDecimals(step: number): number {
  for (let d = 0; d <= 12; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 12;
}

/** A linear tick's label: fixed decimals from the step; exponent form beyond 10^6 or below 10^-4. */
export function linearTickLabel(v: number, step: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1e6 || Math.abs(step) < 1e-4) {
    const digits = Math.max(1, Math.min(6, Math.ceil(Math.log10(Math.abs(v) / step)) + 1));
    return Number(v.toPrecision(digits)).toExponential();
  }
  return v.toFixed(stepDecimals(step));
}

/** Candidate ticks of a log axis over [min, max]: every m × 10^k (m = 1…9) inside it, for thinLogTicks to pick from. */
export function logTickCandidates(min: number, max: number): number[] {
  const out: number[] = [];
  if (!(min > 0) || !(max >= min)) return out;
  for (let k = Math.floor(Math.log10(min)); k <= Math.ceil(Math.log10(max)); k++) {
    for (let m = 1; m <= 9; m++) {
      const v = Number((m * 10 ** k).toPrecision(12));
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

function cleanZero(v: number): number {
  return Math.abs(v) < 1e-12 ? 0 : Number(v.toPrecision(12));
}
