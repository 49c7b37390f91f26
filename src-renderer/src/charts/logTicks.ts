/**
 * Ticks of a log-scale y axis. Chart.js labels its exact min and max beside the decade ticks, and over a narrow range
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
