/**
 * `npm run bench [-- --only A8,B16] [--json] [--backend wasm]`: speed of the engine (and, once it exists,
 * the store). Prints a table and ratios against the reference PyTorch timings measured on this machine
 * (TFJS-CPU-NOTES.md); --json prints one object mapping each config to its numbers.
 */
import { selectBackend, describeBackend } from '../src-main/engine/backend/selectBackend';
import type { BackendPreference } from '../src-shared/config/enums';
import { parseArgs } from '../src-main/cli/args';
import { benchTrain, TRAIN_CONFIGS } from './train';

/** Reference PyTorch CPU timings on this 2-core machine (ms per training step), for the ratio column. */
const REFERENCE_TRAIN_MS: Record<string, number> = { A8: 410 };

const { options } = parseArgs(process.argv.slice(2), {
  only: { type: 'list', description: 'configs to run (A8, A32, B16)' },
  json: { type: 'boolean', description: 'print JSON only' },
  backend: { type: 'string', description: 'backend preference (default auto)' },
  steps: { type: 'number', description: 'timed training steps per config (default 5)' },
});
const only = (options.only as string[] | undefined) ?? TRAIN_CONFIGS.map((c) => c.name);
const unknown = only.filter((n) => !TRAIN_CONFIGS.some((c) => c.name === n));
if (unknown.length) {
  process.stderr.write(`unknown bench config ${unknown.join(', ')} (known: ${TRAIN_CONFIGS.map((c) => c.name).join(', ')})\n`);
  process.exit(2);
}
const backend = await selectBackend((options.backend as BackendPreference | undefined) ?? 'auto');
if (!options.json) process.stdout.write(`backend: ${describeBackend(backend)}\n`);
const results: Record<string, unknown> = {};
for (const c of TRAIN_CONFIGS.filter((c) => only.includes(c.name))) {
  const r = await benchTrain(c, Number(options.steps ?? 5));
  results[c.name] = { trainStepMsMedian: round(r.trainStepMsMedian), sampleCallMsMedian: round(r.sampleCallMsMedian), gflops: round(r.gflops, 2) };
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
if (options.json) process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
