/**
 * The series colours of every chart the studio draws, on screen (Chart.js) and in exported PNGs, so a run has the
 * same colour in both: a calm, colour-blind-friendly palette (Okabe–Ito, without yellow which vanishes on white).
 */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#56B4E9', '#E69F00', '#000000', '#999999'];

export function colorAt(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** Grey for a line that belongs to no run (a reference or a baseline). */
export const REFERENCE_COLOR = '#999999';

/**
 * The colour of a run's line in a chart of several runs (a study): the palette colour of the run's place among
 * `runKeys`, so one run has one colour in every chart, on screen and exported; grey for no run or an unknown one.
 */
export function colorOfRun(runKey: string | null, runKeys: readonly string[]): string {
  const index = runKey === null ? -1 : runKeys.indexOf(runKey);
  return index >= 0 ? colorAt(index) : REFERENCE_COLOR;
}
