/**
 * The series colours of every chart the studio draws, on screen (Chart.js) and in exported PNGs, so a run has the
 * same colour in both: a calm, colour-blind-friendly palette (Okabe–Ito, without yellow which vanishes on white).
 */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#56B4E9', '#E69F00', '#000000', '#999999'];

export function colorAt(i: number): string {
  return PALETTE[i % PALETTE.length];
}
