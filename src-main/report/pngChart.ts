/**
 * Line charts drawn to PNG in Node, for a study's export folder (no browser, no canvas library): a title, x and
 * y axes (linear or log) with round ticks and readable labels, axis titles with units, several named series in the
 * studio's palette with a legend, and markers on the points of short series (a quality metric at K steps).
 *
 * The tick rules are the renderer's (src-shared/axisTicks), so an exported chart reads like the one on screen.
 * Points that cannot be drawn (NaN, ±Infinity, and y ≤ 0 on a log axis) break the line rather than bend it.
 */
import { encodePng, type PngImage } from '../imageio/png';
import { colorAt } from '../../src-shared/chartPalette';
import { labelDigits, linearAxis, linearTickLabel, logTickCandidates, logTickLabel, thinLogTicks } from '../../src-shared/axisTicks';
import { FONT_ASCENT, FONT_DESCENT } from './bitmapFont';
import { measureText, parseHexColor, Raster, type MarkerShape, type Rect, type Rgb } from './raster';

export interface ChartAxisSpec {
  /** What the axis measures, e.g. "NLL". */
  title: string;
  /** Shown in parentheses after the title, e.g. "bits/dim". */
  unit?: string;
  log?: boolean;
  /** Fixed ends; by default the data decide. */
  min?: number;
  max?: number;
  /** Tick at exactly these values (e.g. the sampling steps measured), instead of round ones. */
  ticks?: number[];
}

export interface ChartSeriesSpec {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Hex colour; default: the palette colour of the series' index. */
  color?: string;
  /** Markers on the points: a shape, true (a shape per series), or false. Default: on for series of ≤ 20 points. */
  markers?: boolean | MarkerShape;
}

export interface LineChartSpec {
  title: string;
  x: ChartAxisSpec;
  y: ChartAxisSpec;
  series: ChartSeriesSpec[];
  /** Size in layout units (default 800 × 480); the PNG is `scale` times larger. */
  width?: number;
  height?: number;
  /** Pixels per layout unit (default 2): font pixels and line widths grow with it. */
  scale?: number;
}

export interface AxisTick {
  value: number;
  label: string;
  /** Pixel position along the axis (x for the x axis, y for the y axis). */
  at: number;
}

export interface LegendItem {
  name: string;
  color: Rgb;
  /** The box holding the swatch and the name. */
  box: Rect;
}

export interface RenderedChart {
  image: PngImage;
  /** The plotting area in pixels (right/bottom exclusive). */
  plot: Rect;
  xToPx: (v: number) => number;
  yToPx: (v: number) => number;
  xTicks: AxisTick[];
  yTicks: AxisTick[];
  legend: LegendItem[];
  /** Where the title's cap line starts. */
  titleAt: { left: number; top: number };
}

const MARKER_SHAPES: MarkerShape[] = ['circle', 'square', 'triangle', 'diamond'];
const INK: Rgb = [34, 40, 49];
const MUTED: Rgb = [91, 101, 114];
const GRID: Rgb = [226, 230, 234];
const AUTO_MARKER_POINTS = 20;

interface AxisScale {
  min: number;
  max: number;
  log: boolean;
  ticks: { value: number; label: string }[];
}

function axisText(a: ChartAxisSpec): string {
  return a.unit ? `${a.title} (${a.unit})` : a.title;
}

function checkSpec(spec: LineChartSpec): void {
  spec.series.forEach((s, i) => {
    if (s.x.length !== s.y.length) {
      throw new Error(`chart '${spec.title}': series ${i + 1} '${s.name}' has ${s.x.length} x values but ${s.y.length} y values; give one y per x`);
    }
  });
  for (const [name, a] of [['x', spec.x], ['y', spec.y]] as const) {
    if (a.min !== undefined && a.max !== undefined && !(a.max > a.min)) {
      throw new Error(`chart '${spec.title}': the ${name} axis max (${a.max}) must be above its min (${a.min})`);
    }
    if (a.log && ((a.min !== undefined && !(a.min > 0)) || (a.max !== undefined && !(a.max > 0)))) {
      throw new Error(`chart '${spec.title}': a log ${name} axis needs positive ends; remove min/max or make them > 0`);
    }
  }
}

/** The values of one coordinate that can be drawn on an axis. */
function drawable(v: number, log: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

interface DataRange {
  lo: number;
  hi: number;
  /** Every value a whole number (steps, t): ticks then fall on whole numbers too. */
  integer: boolean;
}

function dataRange(spec: LineChartSpec, pick: 'x' | 'y'): DataRange | null {
  const log = { x: !!spec.x.log, y: !!spec.y.log };
  let lo = Infinity;
  let hi = -Infinity;
  let integer = true;
  for (const s of spec.series) {
    for (let i = 0; i < s.x.length; i++) {
      if (!drawable(s.x[i], log.x) || !drawable(s.y[i], log.y)) continue;
      const v = s[pick][i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (!Number.isInteger(v)) integer = false;
    }
  }
  return lo <= hi ? { lo, hi, integer } : null;
}

/** A linear axis widened to whole steps (y), or fitted to the data (x: a 4,450-step run ends at 4,450, not 5,000). */
function linearScale(range: DataRange | null, a: ChartAxisSpec, target: number, fitData: boolean): AxisScale {
  const { lo, hi, integer } = range ?? { lo: 0, hi: 1, integer: false };
  const fixed = fitData && hi > lo ? { min: a.min ?? lo, max: a.max ?? hi } : { min: a.min, max: a.max };
  const axis = linearAxis(lo, hi, target, fixed, integer && hi > lo);
  const ticks = axis.ticks.filter((v) => v >= axis.min - 1e-9 * axis.step && v <= axis.max + 1e-9 * axis.step);
  return { min: axis.min, max: axis.max, log: false, ticks: ticks.map((v) => ({ value: v, label: linearTickLabel(v, axis.step) })) };
}

/** A log axis: the data's decades padded by 4% of the span, round ticks (1, 2, 5 × 10^k), or linear ones inside a narrow range. */
function logScale(range: DataRange | null, a: ChartAxisSpec, target: number): AxisScale {
  let [lo, hi] = range ? [range.lo, range.hi] : [1, 10];
  let la = Math.log10(lo);
  let lb = Math.log10(hi);
  if (lb - la < 1e-9) {
    la -= 0.1;
    lb += 0.1;
  } else {
    const pad = (lb - la) * 0.04;
    la -= pad;
    lb += pad;
  }
  const min = a.min ?? 10 ** la;
  const max = a.max ?? 10 ** lb;
  lo = min;
  hi = max;
  // Over two decades or more, the decades alone read best; inside narrower spans, 1-2-5 ticks thinned to fit.
  const decades = logTickCandidates(lo, hi).filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  let values = decades.length >= 3 ? decades : thinLogTicks(logTickCandidates(lo, hi), lo, hi);
  if (values.length < 2) {
    values = linearAxis(lo, hi, Math.min(target, 4), { min: lo, max: hi }).ticks.filter((v) => v > 0);
  }
  const digits = labelDigits(values);
  return { min, max, log: true, ticks: values.map((v) => ({ value: v, label: logTickLabel(v, digits) })) };
}

/** The caller's own tick values, inside the axis, labelled with the digits that tell them apart. */
function withExplicitTicks(axis: AxisScale, values: number[] | undefined): AxisScale {
  if (!values) return axis;
  const inside = values.filter((v) => Number.isFinite(v) && v >= axis.min && v <= axis.max && (!axis.log || v > 0));
  const digits = labelDigits(inside);
  return { ...axis, ticks: inside.map((v) => ({ value: v, label: logTickLabel(v, digits) })) };
}

function toPixels(axis: AxisScale, from: number, to: number): (v: number) => number {
  const f = axis.log ? Math.log10 : (v: number) => v;
  const a = f(axis.min);
  const span = f(axis.max) - a;
  return (v: number) => from + ((f(v) - a) / span) * (to - from);
}

function markerShape(s: ChartSeriesSpec, index: number, drawablePoints: number): MarkerShape | null {
  if (s.markers === false) return null;
  if (typeof s.markers === 'string') return s.markers;
  if (s.markers === true || drawablePoints <= AUTO_MARKER_POINTS) return MARKER_SHAPES[index % MARKER_SHAPES.length];
  return null;
}

/** A series in pixel coordinates, split where a point cannot be drawn (the line breaks there). */
function pixelPieces(
  ser: ChartSeriesSpec,
  logX: boolean,
  logY: boolean,
  xToPx: (v: number) => number,
  yToPx: (v: number) => number,
): [number, number][][] {
  const pieces: [number, number][][] = [];
  let piece: [number, number][] = [];
  for (let k = 0; k < ser.x.length; k++) {
    if (!drawable(ser.x[k], logX) || !drawable(ser.y[k], logY)) {
      if (piece.length) pieces.push(piece);
      piece = [];
      continue;
    }
    piece.push([xToPx(ser.x[k]) + 0.5, yToPx(ser.y[k]) + 0.5]);
  }
  if (piece.length) pieces.push(piece);
  return pieces;
}

/**
 * A long curve keeps, per pixel column it crosses, only its first, lowest, highest and last point (in their order):
 * the drawn line looks the same, and 100,000 training steps cost a few thousand segments instead of 100,000.
 * A curve whose x is not increasing is left as it is.
 */
export function thinToColumns(pts: [number, number][]): [number, number][] {
  if (pts.length < 8) return pts;
  const out: [number, number][] = [];
  let start = 0;
  while (start < pts.length) {
    const col = Math.floor(pts[start][0]);
    let end = start + 1;
    while (end < pts.length && Math.floor(pts[end][0]) === col) end++;
    if (end < pts.length && pts[end][0] < pts[end - 1][0]) return pts; // not increasing in x
    let lo = start;
    let hi = start;
    for (let k = start + 1; k < end; k++) {
      if (pts[k][1] < pts[lo][1]) lo = k;
      if (pts[k][1] > pts[hi][1]) hi = k;
    }
    for (const k of [...new Set([start, lo, hi, end - 1])].sort((a, b) => a - b)) out.push(pts[k]);
    start = end;
  }
  return out;
}

/** Splits `text` at spaces into lines no wider than `max` (a single word wider than that gets a line of its own). */
function wrapWords(text: string, max: number, width: (t: string) => number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (line && width(next) > max) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/** Draws the chart and says where everything went (for tests, and for callers that annotate it). */
export function renderLineChart(spec: LineChartSpec): RenderedChart {
  checkSpec(spec);
  const s = spec.scale ?? 2;
  if (!Number.isInteger(s) || s < 1 || s > 8) throw new Error(`chart '${spec.title}': scale ${s} must be a whole number from 1 to 8`);
  const W = Math.round((spec.width ?? 800) * s);
  const H = Math.round((spec.height ?? 480) * s);
  if (W < 240 * s || H < 160 * s) throw new Error(`chart '${spec.title}': ${spec.width}×${spec.height} is too small to draw axes and labels; use at least 240×160`);
  const r = new Raster(W, H);
  const margin = 12 * s;
  const lineH = (FONT_ASCENT + FONT_DESCENT + 1) * s;
  const titleScale = s + 1;

  // Title, centred, wrapped at spaces when wider than the chart.
  const titleLines = wrapWords(spec.title, W - 2 * margin, (t) => measureText(t, titleScale, true));
  const titleAt = { left: Math.max(margin, Math.round((W - measureText(titleLines[0] ?? '', titleScale, true)) / 2)), top: margin };
  let y = margin;
  for (const line of titleLines) {
    r.text(line, Math.max(margin, Math.round((W - measureText(line, titleScale, true)) / 2)), y, titleScale, INK, true);
    y += (FONT_ASCENT + FONT_DESCENT + 1) * titleScale;
  }
  y += 3 * s;

  // Legend: swatch and name per series, wrapped into rows across the width.
  const swatch = 22 * s;
  const legend: LegendItem[] = [];
  let lx = margin;
  const itemH = lineH + 2 * s;
  const colors = spec.series.map((ser, i) => parseHexColor(ser.color ?? colorAt(i)));
  const drawableCounts = spec.series.map((ser) => {
    let n = 0;
    for (let i = 0; i < ser.x.length; i++) if (drawable(ser.x[i], !!spec.x.log) && drawable(ser.y[i], !!spec.y.log)) n++;
    return n;
  });
  const shapes = spec.series.map((ser, i) => markerShape(ser, i, drawableCounts[i]));
  spec.series.forEach((ser, i) => {
    const name = drawableCounts[i] === 0 ? `${ser.name} (no data)` : ser.name;
    const w = swatch + 6 * s + measureText(name, s);
    if (lx > margin && lx + w > W - margin) {
      lx = margin;
      y += itemH;
    }
    const mid = y + Math.round((FONT_ASCENT * s) / 2);
    r.line(lx, mid, lx + swatch, mid, 2 * s, colors[i]);
    const shape = shapes[i];
    if (shape) r.marker(shape, lx + swatch / 2, mid, 3.5 * s, colors[i]);
    r.text(name, lx + swatch + 6 * s, y, s, INK);
    legend.push({ name, color: colors[i], box: { left: lx, top: y, right: lx + w, bottom: y + lineH } });
    lx += w + 16 * s;
  });
  if (spec.series.length > 0) y += itemH + 4 * s;

  // The plot's vertical extent, then the y axis (its labels decide the left edge), then the x axis.
  const tickLen = 4 * s;
  const top = y;
  const bottom = H - margin - lineH - 4 * s - lineH - tickLen - 2 * s;
  if (bottom - top < 40 * s) throw new Error(`chart '${spec.title}': ${spec.series.length} legend entries leave no room to plot; make the chart taller`);
  const yTarget = Math.max(3, Math.round((bottom - top) / (45 * s)));
  const yRange = dataRange(spec, 'y');
  const yAxis = withExplicitTicks(spec.y.log ? logScale(yRange, spec.y, yTarget) : linearScale(yRange, spec.y, yTarget, false), spec.y.ticks);
  const yLabelW = Math.max(0, ...yAxis.ticks.map((t) => measureText(t.label, s)));
  const left = margin + lineH + 4 * s + yLabelW + tickLen + 2 * s;
  const xRange = dataRange(spec, 'x');
  const right0 = W - margin - 16 * s;
  const xTarget = Math.max(3, Math.round((right0 - left) / (90 * s)));
  const xAxis = withExplicitTicks(spec.x.log ? logScale(xRange, spec.x, xTarget) : linearScale(xRange, spec.x, xTarget, true), spec.x.ticks);
  const lastXLabel = xAxis.ticks.length ? measureText(xAxis.ticks[xAxis.ticks.length - 1].label, s) : 0;
  const right = Math.min(right0 + 16 * s - 2 * s, W - margin - Math.ceil(lastXLabel / 2)) | 0;
  const plot: Rect = { left, top, right, bottom };
  const xToPx = toPixels(xAxis, left, right - 1);
  const yToPx = toPixels(yAxis, bottom - 1, top);

  // Grid, axes, ticks and their labels.
  const xTicks: AxisTick[] = xAxis.ticks.map((t) => ({ ...t, at: Math.round(xToPx(t.value)) }));
  const yTicks: AxisTick[] = yAxis.ticks.map((t) => ({ ...t, at: Math.round(yToPx(t.value)) }));
  for (const t of xTicks) r.fillRect(t.at, top, t.at + 1, bottom, GRID);
  for (const t of yTicks) r.fillRect(left, t.at, right, t.at + 1, GRID);
  r.fillRect(left - 1, top, left + s - 1, bottom + s - 1, MUTED);
  r.fillRect(left - 1, bottom - 1, right, bottom + s - 1, MUTED);
  for (const t of xTicks) {
    r.fillRect(t.at, bottom, t.at + s, bottom + tickLen, MUTED);
    const w = measureText(t.label, s);
    r.text(t.label, Math.min(W - w, Math.max(0, t.at - w / 2)), bottom + tickLen + 2 * s, s, INK);
  }
  for (const t of yTicks) {
    r.fillRect(left - tickLen, t.at, left, t.at + s, MUTED);
    r.text(t.label, left - tickLen - 2 * s - measureText(t.label, s), t.at - Math.round((FONT_ASCENT * s) / 2), s, INK);
  }
  const xTitle = axisText(spec.x);
  r.text(xTitle, Math.round((left + right - measureText(xTitle, s)) / 2), H - margin - lineH + s, s, INK);
  const yTitle = axisText(spec.y);
  r.textUp(yTitle, margin, Math.round((top + bottom + measureText(yTitle, s)) / 2), s, INK);

  // Series: lines clipped to the plot, then markers (which may overhang its edge by their radius).
  const lineWidth = 1.25 * s;
  const markerR = 3.5 * s;
  spec.series.forEach((ser, i) => {
    r.setClip(plot);
    for (const piece of pixelPieces(ser, xAxis.log, yAxis.log, xToPx, yToPx)) {
      const pts = thinToColumns(piece);
      if (pts.length === 1) r.line(pts[0][0], pts[0][1], pts[0][0], pts[0][1], lineWidth, colors[i]);
      for (let k = 1; k < pts.length; k++) r.line(pts[k - 1][0], pts[k - 1][1], pts[k][0], pts[k][1], lineWidth, colors[i]);
    }
    const shape = shapes[i];
    if (shape) {
      r.setClip({ left: left - markerR - 1, top: top - markerR - 1, right: right + markerR + 1, bottom: bottom + markerR + 1 });
      for (let k = 0; k < ser.x.length; k++) {
        if (drawable(ser.x[k], xAxis.log) && drawable(ser.y[k], yAxis.log)) {
          r.marker(shape, xToPx(ser.x[k]) + 0.5, yToPx(ser.y[k]) + 0.5, markerR, colors[i]);
        }
      }
    }
    r.clearClip();
  });
  if (drawableCounts.every((n) => n === 0)) {
    const note = 'no data';
    r.text(note, Math.round((left + right - measureText(note, s)) / 2), Math.round((top + bottom) / 2), s, MUTED);
  }
  return { image: r.toImage(), plot, xToPx, yToPx, xTicks, yTicks, legend, titleAt };
}

/** The chart as PNG bytes; the title travels in a tEXt chunk. */
export function lineChartPng(spec: LineChartSpec): Buffer {
  return encodePng(renderLineChart(spec).image, { Title: spec.title, Software: 'iddpm-studio' });
}
