/**
 * Where a training step's time goes: `npx tsx bench/profile.ts [--config A8] [--backend wasm] [--steps 3]`.
 * Prints (1) wall time per op category (conv forward / input grad / filter grad, dense, attention, group norm,
 * concatenation, AdamW, EMA, the flat-parameter copies; native vs tfjs) from their own timers (opTimer.ts) and
 * (2) tfjs kernel calls per step, and time per kernel name, from tf.profile (our own-gradient ops are listed under
 * their scope's name). The rest of a step (losses, the tfjs kernels, tape bookkeeping) is "other".
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, describeBackend } from '../src-main/engine/backend/selectBackend';
import { opTimes, resetOpTimes, setOpTiming } from '../src-main/engine/ops/opTimer';
import type { BackendPreference } from '../src-shared/config/enums';
import { parseArgs } from '../src-main/cli/args';
import { makeTrainer, TRAIN_CONFIGS } from './train';

const { options } = parseArgs(process.argv.slice(2), {
  config: { type: 'string', description: 'bench config (default A8)' },
  backend: { type: 'string', description: 'backend preference (default auto)' },
  steps: { type: 'number', description: 'profiled steps (default 3)' },
});
const name = (options.config as string | undefined) ?? 'A8';
const c = TRAIN_CONFIGS.find((x) => x.name === name);
if (!c) throw new Error(`unknown config ${name}`);
const steps = Number(options.steps ?? 3);
const backend = await selectBackend((options.backend as BackendPreference | undefined) ?? 'auto');
process.stdout.write(`backend: ${describeBackend(backend)}\nconfig ${name}, ${steps} steps\n`);
const trainer = makeTrainer(c);
trainer.trainStep();
trainer.trainStep();

// (1) op categories, wall time.
setOpTiming(true);
resetOpTimes();
let t0 = performance.now();
const cpu0 = process.cpuUsage();
const walls: number[] = [];
for (let i = 0; i < steps; i++) {
  const s0 = performance.now();
  trainer.trainStep();
  walls.push(performance.now() - s0);
}
const cpu = process.cpuUsage(cpu0);
const stepMs = (performance.now() - t0) / steps;
setOpTiming(false);
walls.sort((a, b) => a - b);
process.stdout.write(
  `\nwall ms/step: min ${walls[0].toFixed(0)}, median ${walls[Math.floor(steps / 2)].toFixed(0)}; ` +
    `process CPU ms/step ${((cpu.user + cpu.system) / 1000 / steps).toFixed(0)} (all threads; with 1 thread ≈ the uncontended wall time)\n`,
);
const cats = [...opTimes().entries()].sort((a, b) => b[1].ms - a[1].ms);
let covered = 0;
process.stdout.write(`\nstep ${stepMs.toFixed(0)} ms (with timers)\n  category                        ms/step   share  calls/step\n`);
for (const [k, v] of cats) {
  covered += v.ms;
  process.stdout.write(`  ${k.padEnd(30)} ${(v.ms / steps).toFixed(1).padStart(8)}  ${((100 * v.ms) / steps / stepMs).toFixed(1).padStart(5)}%  ${(v.calls / steps).toFixed(0).padStart(6)}\n`);
}
process.stdout.write(`  ${'other (outside the timed ops)'.padEnd(30)} ${(stepMs - covered / steps).toFixed(1).padStart(8)}  ${((100 * (stepMs - covered / steps)) / stepMs).toFixed(1).padStart(5)}%\n`);

// (2) tfjs kernels.
t0 = performance.now();
const info = await tf.profile(() => {
  for (let i = 0; i < steps; i++) trainer.trainStep();
});
const profMs = (performance.now() - t0) / steps;
const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels) {
  const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += Number(k.kernelTimeMs) || 0;
  e.calls += 1;
  byKernel.set(k.name, e);
}
let kTotal = 0;
for (const v of byKernel.values()) kTotal += v.ms;
process.stdout.write(
  `\ntfjs kernels (tf.profile; step ${profMs.toFixed(0)} ms under the profiler, kernels ${(kTotal / steps).toFixed(0)} ms, ` +
    `${(info.kernels.length / steps).toFixed(0)} kernel calls per step)\n`,
);
for (const [k, v] of [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  process.stdout.write(`  ${k.padEnd(30)} ${(v.ms / steps).toFixed(1).padStart(8)}  ${((100 * v.ms) / kTotal).toFixed(1).padStart(5)}%  ${(v.calls / steps).toFixed(0).padStart(6)}\n`);
}
trainer.dispose();
process.exit(0);
