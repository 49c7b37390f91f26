/**
 * Speed of the renderer's LTTB decimation: 100,000 points (a long loss curve) down to 1,000 (about a
 * chart's pixel width). `benchLttb()` returns the median of several timed runs in ms; the lead wires it
 * into `npm run bench`. Run alone with `npx tsx bench/lttb.ts`.
 */
import { lttbIndices } from '../src-renderer/src/charts/lttb';

export interface LttbBenchResult {
  points: number;
  threshold: number;
  /** Median wall time of one decimation, ms. */
  msMedian: number;
  runs: number;
}

export function benchLttb(points = 100_000, threshold = 1_000, runs = 21): LttbBenchResult {
  const xs = new Float64Array(points);
  const ys = new Float64Array(points);
  let v = 1;
  for (let i = 0; i < points; i++) {
    xs[i] = i;
    // A noisy decaying curve, like a training loss.
    v = 0.9 * v + 0.1 * Math.sin(i * 12.9898) * 0.5;
    ys[i] = Math.exp(-i / 20_000) + v;
  }
  for (let i = 0; i < 3; i++) lttbIndices(xs, ys, threshold); // warm up the JIT
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const kept = lttbIndices(xs, ys, threshold);
    times.push(performance.now() - t0);
    if (kept.length !== threshold) throw new Error(`lttb kept ${kept.length} points, expected ${threshold}`);
  }
  times.sort((a, b) => a - b);
  return { points, threshold, msMedian: times[Math.floor(runs / 2)], runs };
}

// Run directly: print one line.
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = benchLttb();
  process.stdout.write(`lttb ${r.points} → ${r.threshold} points: ${r.msMedian.toFixed(3)} ms (median of ${r.runs})\n`);
}
