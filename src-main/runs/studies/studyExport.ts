/**
 * A study's report as a folder a user can keep or share: report.md (verdicts, tables, chart links),
 * report.json (the whole report), one CSV per chart (series,x,y) and per table, verdicts.csv, and the
 * charts as PNG where a renderer is given. The folder is rewritten whole on every export.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as P from '../../../src-shared/protocol';
import { fmt } from '../../../src-shared/studies/verdicts';

/** Draws a chart as PNG bytes (src-main/report/pngChart.ts). */
export type ChartRenderer = (chart: P.StudyChart) => Uint8Array;

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvOf(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [columns, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

export function chartCsv(chart: P.StudyChart): string {
  const rows: unknown[][] = [];
  for (const s of chart.series) s.x.forEach((x, i) => rows.push([s.label, x, s.y[i]]));
  return csvOf(['series', chart.xLabel, chart.yLabel], rows);
}

function mdCell(v: unknown): string {
  if (v === null || v === undefined) return '—';
  return (typeof v === 'number' ? fmt(v, 4) : String(v)).replace(/\|/g, '\\|');
}

export function reportMarkdown(report: P.StudyReport, pngs: ReadonlySet<string>): string {
  const s = report.study;
  const out: string[] = [];
  out.push(`# ${s.name}`, '');
  out.push(`${s.title}, size **${s.size}**, status **${s.status}**${s.error ? ` (${s.error})` : ''}. Study \`${s.id}\`.`, '');
  out.push('## Verdicts', '');
  for (const v of report.verdicts) {
    const claim = report.claims.find((c) => c.id === v.claimId);
    out.push(`- **${v.outcome}** (${v.figure}): ${v.line}`);
    if (claim) out.push(`  - the paper's claim (paraphrased): ${claim.statement}`, `  - test: ${claim.test}`);
  }
  out.push('', '## Runs', '', '| run | id | status | step |', '|---|---|---|---|');
  for (const r of s.runs) out.push(`| ${mdCell(r.label)} | \`${r.runId}\` | ${r.status} | ${r.step}${r.maxSteps ? ` / ${r.maxSteps}` : ''} |`);
  for (const t of report.tables) {
    out.push('', `## ${t.title}`, '', `| ${t.columns.map(mdCell).join(' | ')} |`, `|${t.columns.map(() => '---').join('|')}|`);
    for (const row of t.rows) out.push(`| ${row.map(mdCell).join(' | ')} |`);
    out.push('', `Data: [${t.id}.table.csv](${t.id}.table.csv)`);
  }
  out.push('', '## Charts');
  for (const c of report.charts) {
    out.push('', `### ${c.title}${c.figure ? ` (paper ${c.figure})` : ''}`, '');
    if (pngs.has(c.id)) out.push(`![${c.title}](${c.id}.png)`, '');
    out.push(c.caption, '', `Data: [${c.id}.csv](${c.id}.csv)${c.series.every((x) => x.x.length === 0) ? ' (no data yet)' : ''}`);
  }
  if (report.notes.length) {
    out.push('', '## Notes', '');
    for (const n of report.notes) out.push(`- ${n}`);
  }
  return out.join('\n') + '\n';
}

export function writeStudyExport(report: P.StudyReport, folder: string, renderChart?: ChartRenderer): P.StudyExport {
  mkdirSync(folder, { recursive: true });
  for (const f of readdirSync(folder)) rmSync(path.join(folder, f), { recursive: true, force: true });
  const files: string[] = [];
  const write = (name: string, data: string | Uint8Array) => {
    writeFileSync(path.join(folder, name), data);
    files.push(name);
  };
  const pngs = new Set<string>();
  for (const c of report.charts) {
    write(`${c.id}.csv`, chartCsv(c));
    if (renderChart) {
      write(`${c.id}.png`, renderChart(c));
      pngs.add(c.id);
    }
  }
  for (const t of report.tables) write(`${t.id}.table.csv`, csvOf(t.columns, t.rows));
  write('verdicts.csv', csvOf(['claim', 'figure', 'outcome', 'verdict'], report.verdicts.map((v) => [v.claimId, v.figure, v.outcome, v.line])));
  write('report.json', JSON.stringify(report, null, 2) + '\n');
  write('report.md', reportMarkdown(report, pngs));
  return { folder, files: files.sort() };
}
