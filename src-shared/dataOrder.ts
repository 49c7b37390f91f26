/**
 * The order in which training visits the images: a seeded permutation per epoch and batches read off the
 * endless sequence of epochs. Pure TypeScript, shared by the data layer and the engine's trainer so both
 * agree, and stateless given (seed, step): a resumed run sees the same images as one that never stopped.
 */

/** murmur3's 32-bit finaliser: a cheap, well-mixed bijection of 32-bit integers. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * mulberry32: a tiny 32-bit generator, good enough to shuffle and self-contained on purpose (the data layer
 * may not import the engine's Rng). Changing it changes every run's batch order, which would break resuming
 * older checkpoints reproducibly: treat it as frozen.
 */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform integer in [0, n) without modulo bias (rejection on the top partial block), n ≤ 2^32. */
function below(next: () => number, n: number): number {
  const limit = 4294967296 - (4294967296 % n); // largest multiple of n that fits in 2^32
  for (;;) {
    const x = next();
    if (x < limit) return x % n;
  }
}

function checkWhole(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} must be a whole number ≥ ${min}, got ${v}`);
}

/**
 * The order in which epoch `epoch` visits the images 0..count-1 for a run seeded with `seed`: a
 * Fisher–Yates permutation driven by mulberry32, seeded by mixing (seed, epoch). Same arguments, same
 * permutation, on every machine; a resumed run recomputes the epoch it stopped in and continues at the
 * same position (see BatchOrder).
 */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  checkWhole('count', count, 0);
  if (count > 4294967295) throw new RangeError(`count ${count} is too large`);
  checkWhole('epoch', epoch, 0);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a whole number, got ${seed}`);
  // Fold the whole seed (both 32-bit halves, sign included via two's complement of the low half) and the
  // epoch into one 32-bit state, each through the mixer so nearby seeds/epochs give unrelated orders.
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  const ep = epoch >>> 0;
  const epHi = Math.floor(epoch / 4294967296) >>> 0;
  let s = fmix32(lo ^ 0x9e3779b9);
  s = fmix32((s ^ hi) >>> 0);
  s = fmix32((s ^ Math.imul(ep, 0x2545f491)) >>> 0);
  s = fmix32((s ^ epHi ^ 0x632be5ab) >>> 0);
  const next = mulberry32(s);
  const perm = new Uint32Array(count);
  for (let i = 0; i < count; i++) perm[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = below(next, i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

/**
 * Batches drawn from a seeded, endless sequence of epochs. Position p (0-based, counted in images since the
 * start of the run) is image epochOrder(count, seed, ⌊p / count⌋)[p mod count]; a batch of n images is
 * positions [start, start + n), and may run across an epoch boundary (so a dataset smaller than the batch
 * still works). A run that resumes at step s with batch size B asks for positions from s × B and gets the
 * same images it would have had without the interruption. Caches the last two epochs' permutations.
 */
export class BatchOrder {
  private readonly cache = new Map<number, Uint32Array>();

  constructor(
    readonly count: number,
    readonly seed: number,
  ) {
    checkWhole('count', count, 1);
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a whole number, got ${seed}`);
  }

  /** The epoch permutation, cached. */
  epoch(e: number): Uint32Array {
    let p = this.cache.get(e);
    if (!p) {
      p = epochOrder(this.count, this.seed, e);
      this.cache.set(e, p);
      if (this.cache.size > 2) {
        const oldest = this.cache.keys().next().value as number;
        this.cache.delete(oldest);
      }
    }
    return p;
  }

  /** The image indices at positions [start, start + n). */
  indices(start: number, n: number, out?: Uint32Array): Uint32Array {
    checkWhole('start', start, 0);
    checkWhole('n', n, 0);
    const dst = out ? out.subarray(0, n) : new Uint32Array(n);
    if (dst.length < n) throw new RangeError(`index output holds ${out!.length} entries, need ${n}`);
    for (let k = 0; k < n; k++) {
      const p = start + k;
      const e = Math.floor(p / this.count);
      dst[k] = this.epoch(e)[p - e * this.count]!;
    }
    return dst;
  }

  /** The indices of batch number `step` (0-based) for batches of `batchSize`. */
  batchAt(step: number, batchSize: number, out?: Uint32Array): Uint32Array {
    checkWhole('step', step, 0);
    checkWhole('batchSize', batchSize, 1);
    return this.indices(step * batchSize, batchSize, out);
  }
}

