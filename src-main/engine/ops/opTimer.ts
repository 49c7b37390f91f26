/**
 * Optional wall-clock timers per op category (bench/profile.ts). Off by default: `timed` then just calls `fn`.
 * The wasm, cpu and native kernels run synchronously, so wall time around a call is the kernel time; on async
 * backends (tfjs-node-gpu) the numbers would mean little.
 */
let enabled = false;
const times = new Map<string, { ms: number; calls: number }>();

export function setOpTiming(on: boolean): void {
  enabled = on;
}

export function resetOpTimes(): void {
  times.clear();
}

/** Accumulated ms and calls per category since the last reset. */
export function opTimes(): ReadonlyMap<string, { ms: number; calls: number }> {
  return times;
}

export function timed<T>(category: string, fn: () => T): T {
  if (!enabled) return fn();
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    const e = times.get(category);
    const ms = performance.now() - t0;
    if (e) {
      e.ms += ms;
      e.calls += 1;
    } else times.set(category, { ms, calls: 1 });
  }
}
