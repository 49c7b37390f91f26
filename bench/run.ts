/**
 * `npm run bench [-- --only A8,B16] [--json] [--backend wasm|webgpu|…]`: speed of the engine, the store and the
 * chart decimation. Prints a table and ratios against the reference PyTorch timings measured on this machine
 * (TFJS-CPU-NOTES.md); --json prints one object mapping each config to its numbers, plus `backend` (the backend
 * line) and, on webgpu, `adapter` (vendor, architecture, description and buffer limits).
 */
import { selectBackend, describeBackend } from '../src-main/engine/backend/selectBackend';
import { BACKEND_PREFERENCES, type BackendPreference } from '../src-shared/config/enums';
import { parseArgs } from '../src-main/cli/args';
import { benchTrain, TRAIN_CONFIGS } from './train';
import { benchStore } from './store';
import { benchLttb } from './lttb';
import { benchChartRedraw } from './chartRedraw';
import { runVsReference } from './vsReference';

/** Reference PyTorch CPU timings on this 2-core machine (ms per training step), for the ratio column. */
const REFERENCE_TRAIN_MS: Record<string, number> = { A8: 410 };

const { options } = parseArgs(process.argv.slice(2), {
  only: { type: 'list', description: 'configs to run (A8, A32, B16, store, charts)' },
  json: { type: 'boolean', description: 'print JSON only' },
  backend: { type: 'string', description: `backend preference: ${BACKEND_PREFERENCES.join(' | ')} (default auto)` },
  steps: { type: 'number', description: 'timed training steps per config (default 5)' },
  'vs-reference': { type: 'boolean', description: 'run the reference PyTorch harness beside ours (A8, A32, B16) and print the ratios' },
  threads: { type: 'list', description: 'thread counts for --vs-reference (default 1,2)' },
});
const KNOWN = [...TRAIN_CONFIGS.map((c) => c.name), 'store', 'charts'];
const only = (options.only as string[] | undefined) ?? KNOWN;
const unknown = only.filter((n) => !KNOWN.includes(n));
if (unknown.length) {
  process.stderr.write(`unknown bench config ${unknown.join(', ')} (known: ${KNOWN.join(', ')})\n`);
  process.exit(2);
}
const preference = (options.backend as string | undefined) ?? 'auto';
if (!(BACKEND_PREFERENCES as readonly string[]).includes(preference)) {
  process.stderr.write(`unknown --backend ${preference} (known: ${BACKEND_PREFERENCES.join(', ')})\n`);
  process.exit(2);
}
const trainConfigs = TRAIN_CONFIGS.filter((c) => only.includes(c.name));
const results: Record<string, unknown> = {};
if (options['vs-reference']) {
  const threads = ((options.threads as string[] | undefined) ?? ['1', '2']).map(Number);
  if (threads.some((t) => !Number.isInteger(t) || t < 1)) {
    process.stderr.write(`--threads must list positive integers, e.g. 1,2 (got ${(options.threads as string[]).join(',')})\n`);
    process.exit(2);
  }
  process.exit(runVsReference({ configs: trainConfigs, threads, steps: Number(options.steps ?? 5), json: Boolean(options.json), write: (s) => process.stdout.write(s) }));
}
if (trainConfigs.length) {
  let backend;
  try {
    backend = await selectBackend(preference as BackendPreference);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  results.backend = describeBackend(backend);
  if (backend.adapter) results.adapter = backend.adapter;
  if (!options.json) process.stdout.write(`backend: ${describeBackend(backend)}\n`);
}
for (const c of trainConfigs) {
  const r = await benchTrain(c, Number(options.steps ?? 5));
  results[c.name] = { trainStepMsMedian: round(r.trainStepMsMedian), sampleCallMsMedian: round(r.sampleCallMsMedian), gflops: round(r.gflops, 2), flopsPerStep: r.flopsPerStep, sampleFlops: r.sampleFlops, maxRssMb: round(process.resourceUsage().maxRSS / 1024, 1) };
  if (!options.json) {
    const ref = REFERENCE_TRAIN_MS[c.name];
    process.stdout.write(
      `${c.name.padEnd(4)} batch ${String(r.batch).padStart(2)}${r.microbatch ? ` (micro ${r.microbatch})` : ''}  params ${r.params}  ` +
        `train step ${round(r.trainStepMsMedian)} ms  sample call (B=64) ${round(r.sampleCallMsMedian)} ms  ` +
        `${(r.flopsPerStep / 1e9).toFixed(2)} GFLOP/step  ${round(r.gflops, 2)} GFLOP/s` +
        (ref ? `  ratio vs reference PyTorch (${ref} ms): ${(r.trainStepMsMedian / ref).toFixed(2)}×` : '') +
        '\n',
    );
  }
}
if (only.includes('store')) {
  // The SQLite store: 100,000 metric rows in batches of 100 (as a live run writes them), then a 2,000-point loss series.
  const r = benchStore();
  results.store = { writeRowsPerSec: round(r.writeRowsPerSec), write100kMs: round(r.write100kMs), read2000PointsMs: round(r.read2000PointsMs, 1), runDetailMs: round(r.runDetailMs, 1) };
  if (!options.json) {
    process.stdout.write(
      `store write ${r.rows} metric rows (batches of ${r.batch}): ${round(r.write100kMs)} ms, ${round(r.writeRowsPerSec)} rows/s  ` +
        `read a ${r.points}-point loss series: ${round(r.read2000PointsMs, 1)} ms (median of 5)  run detail, 10 series: ${round(r.runDetailMs, 1)} ms\n`,
    );
  }
}
if (only.includes('charts')) {
  // A redraw of a 100,000-step series: LTTB to the canvas width, then Chart.js in headless Chromium.
  const l = benchLttb();
  const r = await benchChartRedraw();
  results.charts = { lttb100kTo1kMs: round(l.msMedian, 2), redraw100kMs: r ? round(r.redrawMsMedian, 1) : null };
  if (!options.json) {
    process.stdout.write(
      `charts: LTTB ${l.points} → ${l.threshold} points ${round(l.msMedian, 2)} ms; ` +
        (r ? `full redraw of ${r.points} points (${r.drawn} drawn) in Chromium ${round(r.redrawMsMedian, 1)} ms, ${(r.redrawMsMedian / 50).toFixed(2)}× the 50 ms budget\n` : 'no Chromium for the redraw benchmark (apt-get install chromium)\n'),
    );
  }
}
if (options.json) process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
