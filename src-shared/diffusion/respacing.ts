/**
 * Respacing (SPEC §6, paper §4): sampling with K < T steps by keeping a subset of the timesteps and
 * rebuilding β on it, so that ᾱ at every kept step is unchanged.
 */

/** Python's round(): half to even. The reference relies on it ((4000,"25") contains 666 and 3332). */
export function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** A respacing spec: "a,b,c" section counts, "ddimN", or the counts as numbers. */
export type RespacingSpec = string | readonly number[];

/**
 * The timesteps to keep, ascending: `space_timesteps(T, spec)` of the reference.
 * "ddimN" takes every i-th step for the smallest stride i giving exactly N steps.
 * Otherwise [0, T) is cut into sections (the first T mod n one step longer) and each section
 * takes its count of evenly strided steps, the stride accumulated by repeated float addition.
 */
export function spaceTimesteps(numSteps: number, spec: RespacingSpec): number[] {
  if (!Number.isInteger(numSteps) || numSteps < 1) {
    throw new Error(`respacing: number of steps must be a positive integer, got ${numSteps}`);
  }
  let counts: number[];
  if (typeof spec === 'string') {
    const trimmed = spec.trim();
    if (trimmed.startsWith('ddim')) return ddimTimesteps(numSteps, trimmed);
    counts = trimmed.split(',').map((part) => parseCount(part, spec));
  } else {
    counts = spec.map((c) => parseCount(String(c), spec.join(',')));
  }
  if (counts.length === 0) throw new Error('respacing: give at least one section count');

  const sizePer = Math.floor(numSteps / counts.length);
  const extra = numSteps % counts.length;
  const steps = new Set<number>();
  let start = 0;
  counts.forEach((count, i) => {
    const size = sizePer + (i < extra ? 1 : 0);
    if (size < count) {
      throw new Error(`respacing: cannot take ${count} steps from a section of ${size} steps`);
    }
    const stride = count <= 1 ? 1 : (size - 1) / (count - 1);
    let cur = 0.0;
    for (let k = 0; k < count; k++) {
      steps.add(start + roundHalfToEven(cur));
      cur += stride;
    }
    start += size;
  });
  return [...steps].sort((a, b) => a - b);
}

function parseCount(part: string, spec: unknown): number {
  const text = part.trim();
  const value = Number(text);
  if (text === '' || !Number.isInteger(value) || value < 0) {
    throw new Error(
      `respacing '${String(spec)}': '${part}' is not a step count (use e.g. "50", "10,15,20" or "ddim50")`,
    );
  }
  return value;
}

function ddimTimesteps(numSteps: number, spec: string): number[] {
  const desired = Number(spec.slice('ddim'.length));
  if (!Number.isInteger(desired) || desired < 1) {
    throw new Error(`respacing '${spec}': expected ddimN with N a positive integer, e.g. "ddim50"`);
  }
  for (let stride = 1; stride < numSteps; stride++) {
    if (Math.ceil(numSteps / stride) === desired) {
      const steps: number[] = [];
      for (let t = 0; t < numSteps; t += stride) steps.push(t);
      return steps;
    }
  }
  throw new Error(`respacing '${spec}': cannot create exactly ${desired} steps with an integer stride from ${numSteps}`);
}

/** The β of a respaced process and the original step each new step stands for. */
export interface RespacedBetas {
  /** β'_k = 1 − ᾱ_{s_k}/ᾱ_{s_{k−1}}, not re-clipped. */
  readonly betas: Float64Array;
  /** timestepMap[k] = s_k, the original step the network is called with. */
  readonly timestepMap: number[];
}

/** Rebuilds β on the kept steps from the original ᾱ. */
export function respacedBetas(alphasCumprod: ArrayLike<number>, keep: Iterable<number>): RespacedBetas {
  const keepSet = new Set(keep);
  const betas: number[] = [];
  const timestepMap: number[] = [];
  let last = 1.0;
  for (let i = 0; i < alphasCumprod.length; i++) {
    if (!keepSet.has(i)) continue;
    betas.push(1 - alphasCumprod[i] / last);
    last = alphasCumprod[i];
    timestepMap.push(i);
  }
  for (const s of keepSet) {
    if (!Number.isInteger(s) || s < 0 || s >= alphasCumprod.length) {
      throw new Error(`respacing: step ${s} is outside [0, ${alphasCumprod.length})`);
    }
  }
  return { betas: Float64Array.from(betas), timestepMap };
}
