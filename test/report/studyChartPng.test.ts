/** A study chart exported as PNG: runs keep their study colours, measured settings get their own ticks. */
import { describe, expect, it } from 'vitest';
import type { StudyChart } from '../../src-shared/protocol';
import { decodeOwnPng } from '../../src-main/imageio/png';
import { renderLineChart } from '../../src-main/report/pngChart';
import { studyChartPng, studyChartSpec } from '../../src-main/report/studyChartPng';
import { parseHexColor } from '../../src-main/report/raster';
import { PALETTE, REFERENCE_COLOR } from '../../src-shared/chartPalette';

const chart: StudyChart = {
  id: 'quality-vs-steps',
  title: 'Quality vs sampling steps',
  figure: 'Figure 8',
  xLabel: 'sampling steps K',
  yLabel: 'FID (studio classifier features)',
  xScale: 'log',
  yScale: 'linear',
  caption: '',
  series: [
    // Listed in the other order than the study's runs.
    { label: 'L_hybrid, learned Σ', runKey: 'hybrid', x: [10, 25, 50, 100], y: [20, 12, 10, 9] },
    { label: 'L_simple, fixed Σ', runKey: 'simple', x: [10, 25, 50, 100], y: [40, 22, 14, 10] },
    { label: 'no run', runKey: null, x: [10, 100], y: [30, 30] },
  ],
};

describe('study chart PNG', () => {
  it('colours runs by their place in the study, ticks at the measured K, names the figure', () => {
    const spec = studyChartSpec(chart, ['simple', 'hybrid']);
    expect(spec.title).toBe('Quality vs sampling steps (paper Figure 8)');
    expect(spec.series.map((s) => s.color)).toEqual([PALETTE[1], PALETTE[0], REFERENCE_COLOR]);
    const drawn = renderLineChart(spec);
    expect(drawn.xTicks.map((t) => t.label)).toEqual(['10', '25', '50', '100']);
    const img = decodeOwnPng(Buffer.from(studyChartPng(chart, ['simple', 'hybrid'])));
    const at = (x: number, y: number) => {
      const i = (Math.round(drawn.yToPx(y)) * img.width + Math.round(drawn.xToPx(x))) * 3;
      return [img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]];
    };
    expect(at(25, 22)).toEqual([...parseHexColor(PALETTE[0])]); // the 'simple' run, first in the study
    expect(at(25, 12)).toEqual([...parseHexColor(PALETTE[1])]);
    expect(at(50, 30)).toEqual([...parseHexColor(REFERENCE_COLOR)]);
  });
});
