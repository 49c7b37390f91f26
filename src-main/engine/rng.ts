/**
 * Seeded randomness for training and sampling, independent of the tfjs backend: the same seed gives the
 * same noise on cpu, wasm or GPU, and the generator's state is a few integers a checkpoint can store.
 *
 * The generator is xoshiro128** (32-bit state words, fast in JavaScript); normals come from the
 * Box–Muller transform on two uniforms in (0, 1].
 */
import * as tf from '@tensorflow/tfjs';

/** The generator state as stored in checkpoints. */
export interface RngState {
  readonly s: [number, number, number, number];
  /** A second normal left over from the last Box–Muller pair, or null. */
  readonly spare: number | null;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix32 step, used only to spread a seed over the four state words. */
function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s: Uint32Array;
  private spare: number | null = null;

  constructor(seed: number | RngState) {
    this.s = new Uint32Array(4);
    if (typeof seed === 'number') {
      if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
      const next = splitmix32(Math.floor(seed) ^ Math.floor(seed / 2 ** 32));
      for (let i = 0; i < 4; i++) this.s[i] = next();
      if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    } else {
      this.s.set(seed.s);
      this.spare = seed.spare;
    }
  }

  state(): RngState {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]], spare: this.spare };
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Index drawn from the categorical distribution p (need not be normalised). */
  categorical(p: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < p.length; i++) total += p[i];
    let u = this.uniform() * total;
    for (let i = 0; i < p.length; i++) {
      u -= p[i];
      if (u < 0) return i;
    }
    // Rounding left u ≥ 0 after the last entry: return the last index with weight.
    for (let i = p.length - 1; i >= 0; i--) if (p[i] > 0) return i;
    throw new Error('categorical: all probabilities are zero');
  }

  normalArray(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }
}

/** Where the diffusion gets its Gaussian noise: a new tensor of the given shape, owned by the caller. */
export type NoiseSource = (shape: number[]) => tf.Tensor;

/** Standard normal noise from a seeded generator. */
export function rngNoise(rng: Rng): NoiseSource {
  return (shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(rng.normalArray(size), shape, 'float32');
  };
}
