/**
 * A study report's chart (src-shared/protocol StudyChart) as PNG bytes for its export folder, drawn like the report
 * page draws it: each run in the colour of its place in the study, lines of no run in grey, the same axes (log where
 * the chart says) and the paper's figure in the title.
 */
import type { StudyChart } from '../../src-shared/protocol';
import { colorOfRun } from '../../src-shared/chartPalette';
import { lineChartPng, type LineChartSpec } from './pngChart';

/** The chart as a LineChartSpec; `runKeys` are the study's runs in order (they decide the colours). */
export function studyChartSpec(chart: StudyChart, runKeys: readonly string[]): LineChartSpec {
  const logX = chart.xScale === 'log';
  // Few distinct x values on a log axis are settings measured one by one (K sampling steps): tick exactly at them.
  const xs = [...new Set(chart.series.flatMap((s) => s.x))].sort((a, b) => a - b);
  return {
    title: chart.figure ? `${chart.title} (paper ${chart.figure})` : chart.title,
    x: { title: chart.xLabel, log: logX, ticks: logX && xs.length > 0 && xs.length <= 8 ? xs : undefined },
    y: { title: chart.yLabel, log: chart.yScale === 'log' },
    series: chart.series.map((s) => ({ name: s.label, x: s.x, y: s.y, color: colorOfRun(s.runKey, runKeys) })),
  };
}

/** PNG bytes of a study chart (for writeStudyExport's renderer). */
export function studyChartPng(chart: StudyChart, runKeys: readonly string[]): Uint8Array {
  return lineChartPng(studyChartSpec(chart, runKeys));
}
