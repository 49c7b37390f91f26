/**
 * Store speed (issue: "writing 100,000 metric rows and reading a 2,000-point series back"). Rows go in
 * as a live run writes them: batches of 100 per transaction through appendStepMetrics, on a real file in
 * a temp folder (WAL, synchronous=NORMAL, as the studio runs). The read is the Run detail loss chart:
 * the whole run downsampled in SQL to 2,000 points; median of 5.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withDefaults } from '../src-shared/config/runConfig';
import { openStore } from '../src-main/store';
import type { StepMetricRow } from '../src-main/store';

export interface StoreBenchResult {
  rows: number;
  batch: number;
  writeRowsPerSec: number;
  write100kMs: number;
  read2000PointsMs: number;
  /** Points the read returned (≤ 2000). */
  points: number;
  /** All ten Run detail series in one scan (runDetail), median of 5. */
  runDetailMs: number;
}

function row(step: number, t0: number): StepMetricRow {
  const loss = 0.05 + 1 / (1 + step / 500) + 0.01 * Math.sin(step);
  const q = (k: number) => loss * (1.5 - k * 0.3);
  return {
    step,
    time: t0 + step * 20,
    loss,
    mse: loss * 0.9,
    vb: loss * 0.1,
    gradNorm: 1 + 0.1 * Math.cos(step),
    lr: 1e-4,
    samplesPerSec: 400,
    stepMs: 20,
    lossQ: [q(0), q(1), q(2), q(3)],
    mseQ: [q(0), q(1), q(2), q(3)],
    vbQ: [q(0) / 10, q(1) / 10, q(2) / 10, q(3) / 10],
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function benchStore(opts: { rows?: number; batch?: number; points?: number } = {}): StoreBenchResult {
  const total = opts.rows ?? 100_000;
  const batch = opts.batch ?? 100;
  const points = opts.points ?? 2000;
  const dir = mkdtempSync(path.join(tmpdir(), 'iddpm-bench-store-'));
  const store = openStore(path.join(dir, 'studio.db'));
  try {
    store.createRun({ id: 'bench', name: 'bench', config: withDefaults({ dataset: { kind: 'mnist' } }) });
    const t0 = Date.now();
    // Build the rows first so the timing is the store's, not the row generator's.
    const batches: StepMetricRow[][] = [];
    for (let s = 1; s <= total; s += batch) batches.push(Array.from({ length: Math.min(batch, total - s + 1) }, (_, i) => row(s + i, t0)));
    const start = performance.now();
    for (const b of batches) store.appendStepMetrics('bench', b);
    const writeMs = performance.now() - start;

    const reads: number[] = [];
    let got = 0;
    for (let i = 0; i < 5; i++) {
      const r0 = performance.now();
      got = store.readSeries('bench', 'loss', { points }).step.length;
      reads.push(performance.now() - r0);
    }
    const details: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r0 = performance.now();
      store.runDetail('bench', points);
      details.push(performance.now() - r0);
    }
    return {
      rows: total,
      batch,
      writeRowsPerSec: (total / writeMs) * 1000,
      write100kMs: writeMs * (100_000 / total),
      read2000PointsMs: median(reads),
      points: got,
      runDetailMs: median(details),
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
