/**
 * Helpers for the op gradient checks: seeded data, and a loss-gradient comparison of two implementations,
 * possibly on different backends. Not a test file itself.
 */
import * as tf from '@tensorflow/tfjs';

/** Deterministic standard normals (mulberry32 + Box–Muller). */
export function normals(n: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0;
  const uni = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(uni(), 1e-12);
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uni());
  }
  return out;
}

export interface Spec {
  shape: number[];
  scale?: number;
}

export interface RunResult {
  value: Float32Array;
  grads: Float32Array[];
  shape: number[];
}

/**
 * On `backend`: make the inputs from `specs` (seeded), y = op(...inputs), loss = Σ y·R for a seeded random R,
 * and return y and d loss / d input for every input. Checks that no tensor is left behind.
 */
export async function runOp(
  backend: string,
  op: (...xs: tf.Tensor[]) => tf.Tensor,
  specs: Spec[],
  seed: number,
): Promise<RunResult> {
  if (tf.getBackend() !== backend) {
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  }
  const before = tf.memory().numTensors;
  const inputs = specs.map((s, i) =>
    tf.tensor(normals(s.shape.reduce((a, b) => a * b, 1), seed * 97 + i + 1, s.scale ?? 1), s.shape),
  );
  const y = op(...inputs);
  const r = tf.tensor(normals(y.size, seed * 97 + 50), y.shape);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), r)))(inputs);
  // Asynchronous reads: the webgpu backend cannot read GPU buffers synchronously in Node.
  const res: RunResult = {
    value: (await y.data()) as Float32Array,
    grads: (await Promise.all(grads.map((g) => g.data()))) as Float32Array[],
    shape: y.shape,
  };
  tf.dispose([...inputs, y, r, ...grads]);
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`op left ${after - before} tensors behind on ${backend}`);
  return res;
}

/** max |a − b| / max |b|: error relative to the magnitude of the reference. */
export function relErr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  if (!Number.isFinite(maxDiff)) return Infinity;
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

export interface Compared {
  value: number;
  grads: number[];
}

export function compare(fast: RunResult, plain: RunResult): Compared {
  if (fast.shape.join() !== plain.shape.join()) throw new Error(`shape ${fast.shape} vs ${plain.shape}`);
  return { value: relErr(fast.value, plain.value), grads: fast.grads.map((g, i) => relErr(g, plain.grads[i])) };
}
