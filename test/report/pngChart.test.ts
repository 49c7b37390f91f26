/**
 * The PNG charts of a study export, checked on the decoded PNG bytes: the size, each series' colour where its line
 * must pass, nothing where it must not (a gap at NaN, the plot's outside), log-axis spacing, tick labels and legend
 * names inked where the layout put them, markers on short series, and an independent decoder (PIL) agreeing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeOwnPng, readPngText, type PngImage } from '../../src-main/imageio/png';
import { lineChartPng, renderLineChart, thinToColumns, type LineChartSpec } from '../../src-main/report/pngChart';
import { FONT_ASCENT, glyphOf, hasGlyph } from '../../src-main/report/bitmapFont';
import { measureText, parseHexColor, Raster, type Rect, type Rgb } from '../../src-main/report/raster';
import { PALETTE } from '../../src-shared/chartPalette';

const WHITE: Rgb = [255, 255, 255];

function pixel(img: PngImage, x: number, y: number): Rgb {
  const i = (Math.round(y) * img.width + Math.round(x)) * 3;
  return [img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]];
}

function near(a: Rgb, b: Rgb, tol = 8): boolean {
  return a.every((v, k) => Math.abs(v - b[k]) <= tol);
}

/** Pixels in `r` darker than mid-grey (text ink). */
function inkIn(img: PngImage, r: Rect): number {
  let n = 0;
  for (let y = Math.max(0, r.top); y < Math.min(img.height, r.bottom); y++) {
    for (let x = Math.max(0, r.left); x < Math.min(img.width, r.right); x++) {
      const [R, G, B] = pixel(img, x, y);
      if (R + G + B < 3 * 128) n++;
    }
  }
  return n;
}

function countColour(img: PngImage, r: Rect, c: Rgb): number {
  let n = 0;
  for (let y = r.top; y < r.bottom; y++) for (let x = r.left; x < r.right; x++) if (near(pixel(img, x, y), c, 4)) n++;
  return n;
}

const twoLines: LineChartSpec = {
  title: 'NLL vs training step',
  x: { title: 'training step' },
  y: { title: 'NLL', unit: 'bits/dim' },
  series: [
    { name: 'linear', x: [0, 100, 200, 300, 400], y: [5, 5, 5, 5, 5], markers: false },
    { name: 'cosine', x: [0, 400], y: [2, 8], markers: false },
  ],
};

describe('bitmap font', () => {
  it('has a glyph of its own for every printable ASCII character and the chart symbols, no two ASCII glyphs alike', () => {
    const seen = new Map<string, string>();
    for (let c = 0x20; c <= 0x7e; c++) {
      const ch = String.fromCharCode(c);
      expect(hasGlyph(ch), `glyph for '${ch}'`).toBe(true);
      const g = glyphOf(ch);
      const key = `${g.width}:${g.pixels.map((p) => p.join(',')).join(';')}`;
      if (ch !== ' ') expect(seen.get(key), `'${ch}' looks like '${seen.get(key)}'`).toBeUndefined();
      seen.set(key, ch);
    }
    for (const ch of '×²≥≤±−…µσΣ') expect(hasGlyph(ch), `glyph for '${ch}'`).toBe(true);
    expect(hasGlyph('漢')).toBe(false);
    expect(glyphOf('漢').pixels.length).toBeGreaterThan(0); // drawn as a box, not dropped
  });

  it('draws a glyph pixel for pixel at the scale asked for', () => {
    const r = new Raster(40, 40);
    const black: Rgb = [0, 0, 0];
    r.text('R', 10, 5, 3, black);
    const inked = new Set(glyphOf('R').pixels.map(([c, row]) => `${c},${row}`));
    for (let row = 0; row < FONT_ASCENT; row++) {
      for (let col = 0; col < glyphOf('R').width; col++) {
        for (const [dx, dy] of [[0, 0], [2, 2]]) {
          expect(near(r.at(10 + col * 3 + dx, 5 + row * 3 + dy), inked.has(`${col},${row}`) ? black : WHITE, 0)).toBe(true);
        }
      }
    }
  });
});

describe('line chart PNG', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iddpm-chart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes to the asked size with the title in a tEXt chunk', () => {
    const png = lineChartPng({ ...twoLines, width: 600, height: 360, scale: 2 });
    const img = decodeOwnPng(png);
    expect([img.width, img.height, img.channels]).toEqual([1200, 720, 3]);
    expect(readPngText(png).Title).toBe('NLL vs training step');
  });

  it('draws each series in its palette colour along its line, and leaves the plot white elsewhere', () => {
    const chart = renderLineChart(twoLines);
    const img = decodeOwnPng(lineChartPng(twoLines));
    const blue = parseHexColor(PALETTE[0]);
    const orange = parseHexColor(PALETTE[1]);
    // The flat line y = 5, at several x; the diagonal from (0, 2) to (400, 8) passes (100, 3.5) and (300, 6.5).
    for (const x of [50, 150, 250, 350]) expect(pixel(img, chart.xToPx(x), chart.yToPx(5))).toEqual(blue);
    for (const [x, y] of [[100, 3.5], [300, 6.5]]) expect(pixel(img, chart.xToPx(x), chart.yToPx(y))).toEqual(orange);
    // Well away from both lines, inside the plot and between gridlines: background.
    const probe = [chart.xToPx(60), chart.yToPx(7.3)] as const;
    expect(near(pixel(img, probe[0], probe[1]), WHITE, 0)).toBe(true);
    // Half a unit above and below the flat line there is no blue: the line is thin.
    expect(pixel(img, chart.xToPx(250), chart.yToPx(5.5))).not.toEqual(blue);
    expect(pixel(img, chart.xToPx(250), chart.yToPx(4.5))).not.toEqual(blue);
    // Nothing of the series leaks outside the plot.
    const outside = countColour(img, { left: 0, top: chart.plot.bottom + 6, right: img.width, bottom: img.height }, blue);
    expect(outside).toBe(0);
  });

  it('puts the data range on round ticks and labels each of them beside the axis', () => {
    const chart = renderLineChart(twoLines);
    const img = chart.image;
    expect(chart.yTicks.map((t) => t.label)).toEqual(['2', '3', '4', '5', '6', '7', '8']);
    expect(chart.xTicks[0].label).toBe('0');
    expect(chart.xTicks.at(-1)!.value).toBeLessThanOrEqual(400);
    for (const t of chart.yTicks) {
      // The label sits left of the tick mark, vertically centred on it.
      const w = measureText(t.label, 2);
      expect(inkIn(img, { left: chart.plot.left - 12 - w - 4, top: t.at - 8, right: chart.plot.left - 10, bottom: t.at + 8 }), `label ${t.label}`).toBeGreaterThan(5);
    }
    for (const t of chart.xTicks) {
      expect(inkIn(img, { left: t.at - 20, top: chart.plot.bottom + 8, right: t.at + 20, bottom: chart.plot.bottom + 30 }), `label ${t.label}`).toBeGreaterThan(5);
    }
    // Labels of decimal steps carry the decimals the step needs.
    const fine = renderLineChart({ ...twoLines, series: [{ name: 'a', x: [0, 1], y: [0.11, 0.19] }] });
    expect(fine.yTicks.map((t) => t.label)).toContain('0.15');
    // Whole-number data (diffusion steps 0…19) get whole-number ticks: no 2.5, 7.5.
    const t = Array.from({ length: 20 }, (_, i) => i);
    const whole = renderLineChart({ ...twoLines, series: [{ name: 'terms', x: t, y: t.map((i) => i * 0.1) }] });
    expect(whole.xTicks.map((k) => k.label)).toEqual(['0', '5', '10', '15']);
  });

  it('spaces decades evenly on a log y axis and labels them compactly', () => {
    const spec: LineChartSpec = {
      title: 'VLB terms',
      x: { title: 't' },
      y: { title: 'L_t', unit: 'bits', log: true },
      series: [{ name: 'terms', x: [0, 1, 2, 3], y: [100, 10, 1, 0.01], markers: false }],
    };
    const chart = renderLineChart(spec);
    const d1 = chart.yToPx(1) - chart.yToPx(10);
    const d2 = chart.yToPx(10) - chart.yToPx(100);
    expect(d1).toBeGreaterThan(20);
    expect(Math.abs(d1 - d2)).toBeLessThan(1e-6);
    expect(chart.yTicks.map((t) => t.label)).toEqual(['0.01', '0.1', '1', '10', '100']);
    const blue = parseHexColor(PALETTE[0]);
    // The segment from (1, 10) to (2, 1) is straight on the log axis: its midpoint is at √10.
    expect(pixel(chart.image, chart.xToPx(1.5), chart.yToPx(Math.sqrt(10)))).toEqual(blue);
  });

  it('breaks the line at a NaN and at y ≤ 0 on a log axis instead of joining across', () => {
    const spec: LineChartSpec = {
      title: 'gap',
      x: { title: 'x' },
      y: { title: 'y', log: true },
      series: [{ name: 's', x: [0, 1, 2, 3, 4, 5], y: [1, 1, Number.NaN, 1, 0, 1], markers: false }],
    };
    const chart = renderLineChart(spec);
    const blue = parseHexColor(PALETTE[0]);
    expect(pixel(chart.image, chart.xToPx(0.5), chart.yToPx(1))).toEqual(blue);
    expect(pixel(chart.image, chart.xToPx(2), chart.yToPx(1))).not.toEqual(blue);
    expect(pixel(chart.image, chart.xToPx(4), chart.yToPx(1))).not.toEqual(blue);
  });

  it('names every series in the legend beside a swatch of its colour', () => {
    const chart = renderLineChart(twoLines);
    expect(chart.legend.map((l) => l.name)).toEqual(['linear', 'cosine']);
    chart.legend.forEach((item, i) => {
      const swatch = { ...item.box, right: item.box.left + 44 };
      expect(countColour(chart.image, swatch, parseHexColor(PALETTE[i])), `swatch of ${item.name}`).toBeGreaterThan(40);
      const text = { ...item.box, left: item.box.left + 56 };
      expect(inkIn(chart.image, text), `name of ${item.name}`).toBeGreaterThan(30);
      // The name ends where its measured width says: no ink past the box.
      expect(inkIn(chart.image, { left: item.box.right + 1, top: item.box.top, right: item.box.right + 20, bottom: item.box.bottom })).toBe(0);
    });
    // The legends do not overlap, and sit above the plot.
    expect(chart.legend[1].box.left).toBeGreaterThan(chart.legend[0].box.right);
    expect(chart.legend[0].box.bottom).toBeLessThanOrEqual(chart.plot.top);
    // A series with nothing to draw says so rather than vanish.
    const empty = renderLineChart({ ...twoLines, series: [...twoLines.series, { name: 'none', x: [], y: [] }] });
    expect(empty.legend[2].name).toBe('none (no data)');
  });

  it('marks the points of a short series with a distinct shape per series, and not a long one unless asked', () => {
    const k = [10, 25, 50, 100];
    const spec: LineChartSpec = {
      title: 'quality vs steps',
      x: { title: 'sampling steps', log: true, ticks: k },
      y: { title: 'FID' },
      series: [
        { name: 'fixed', x: k, y: [40, 20, 12, 10] },
        { name: 'learned', x: k, y: [20, 12, 10, 9] },
      ],
    };
    const chart = renderLineChart(spec);
    expect(chart.xTicks.map((t) => t.label)).toEqual(['10', '25', '50', '100']);
    // At scale 4 a marker has radius 14 (a square: half-side 11.9); pixel centres are offset from (cx, cy) by `d`.
    const big = renderLineChart({ ...spec, scale: 4 });
    const at = (c: typeof big, xv: number, yv: number, dx: number, dy: number) =>
      pixel(c.image, Math.floor(c.xToPx(xv) + 0.5 + dx), Math.floor(c.yToPx(yv) + 0.5 + dy));
    const blue = parseHexColor(PALETTE[0]);
    const orange = parseHexColor(PALETTE[1]);
    // 10 px below a point, across the line's direction: only a marker reaches there.
    expect(at(big, 25, 20, 0, 10)).toEqual(blue);
    // The second series' square fills its corner (≈ 11 px each way); the first series' circle does not reach it.
    expect(at(big, 50, 10, 10.9, -10.9)).toEqual(orange);
    expect(near(at(big, 50, 12, 10.9, -10.9), WHITE, 30)).toBe(true);
    const bare = renderLineChart({ ...spec, scale: 4, series: [{ ...spec.series[0], markers: false }] });
    expect(near(at(bare, 25, 20, 0, 10), WHITE, 30)).toBe(true); // white, or a light gridline
    // A long series gets no markers unless asked.
    const xs = Array.from({ length: 50 }, (_, i) => i);
    const long = renderLineChart({ title: 'long', x: { title: 'x' }, y: { title: 'y' }, scale: 4, series: [{ name: 'l', x: xs, y: xs.map(() => 1) }] });
    expect(near(at(long, 20, 1, 0, 10), WHITE, 30)).toBe(true);
  });

  it('draws a dense curve from the extremes of each pixel column, keeping its peaks', () => {
    // 20,000 points alternating between 0 and 1, with one spike to 3 at point 12,345.
    const n = 20_000;
    const xs = Array.from({ length: n }, (_, i) => i);
    const ys = xs.map((i) => (i === 12_345 ? 3 : i % 2));
    const pts = xs.map((x, i) => [x / 20, 100 - ys[i] * 10] as [number, number]);
    const thin = thinToColumns(pts);
    expect(thin.length).toBeLessThanOrEqual(4 * 1000);
    const cols = new Map<number, number[]>();
    for (const [x, y] of pts) cols.set(Math.floor(x), [...(cols.get(Math.floor(x)) ?? []), y]);
    for (const [col, yv] of cols) {
      const kept = thin.filter(([x]) => Math.floor(x) === col).map(([, y]) => y);
      expect(Math.min(...kept)).toBe(Math.min(...yv));
      expect(Math.max(...kept)).toBe(Math.max(...yv));
    }
    const chart = renderLineChart({ title: 'dense', x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 's', x: xs, y: ys }] });
    expect(pixel(chart.image, chart.xToPx(12_345), chart.yToPx(2.9))).toEqual(parseHexColor(PALETTE[0]));
  });

  it('writes "no data" in an empty chart and still draws its axes', () => {
    const chart = renderLineChart({ title: 'empty', x: { title: 'x' }, y: { title: 'y' }, series: [] });
    const mid = { left: Math.round((chart.plot.left + chart.plot.right) / 2) - 40, top: Math.round((chart.plot.top + chart.plot.bottom) / 2) - 2, right: 0, bottom: 0 };
    expect(inkIn(chart.image, { ...mid, right: mid.left + 80, bottom: mid.top + 20 })).toBeGreaterThan(10);
    expect(chart.yTicks.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a series whose x and y differ in length, naming it', () => {
    expect(() => renderLineChart({ ...twoLines, series: [{ name: 'cosine', x: [1, 2, 3], y: [1, 2] }] })).toThrow(/series 1 'cosine' has 3 x values but 2 y values/);
    expect(() => renderLineChart({ ...twoLines, y: { title: 'y', log: true, min: 0 } })).toThrow(/log y axis needs positive ends/);
  });

  const pil = spawnSync('/usr/bin/python3', ['-c', 'import PIL'], { encoding: 'utf8' });
  it.skipIf(pil.status !== 0)('reads the same in an independent decoder (PIL)', () => {
    const chart = renderLineChart(twoLines);
    const file = join(dir, 'chart.png');
    writeFileSync(file, lineChartPng(twoLines));
    const [x, y] = [Math.round(chart.xToPx(150)), Math.round(chart.yToPx(5))];
    const r = spawnSync('/usr/bin/python3', ['-c', `import sys; from PIL import Image; im = Image.open(sys.argv[1]); im.load(); print(im.size[0], im.size[1], im.mode, *im.getpixel((${x}, ${y})))`, file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split(' ')).toEqual([String(chart.image.width), String(chart.image.height), 'RGB', ...parseHexColor(PALETTE[0]).map(String)]);
  });
});
