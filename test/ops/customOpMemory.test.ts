/**
 * The backward pass of our own-gradient ops frees what each op's gradient read (the tensors it saved and its dy)
 * as soon as that gradient has run. tfjs keeps both until the whole backward pass ends, so a training step's peak
 * was every saved activation plus the gradient of every activation (B16: 1.4 GB of tensors, now 0.6 GB).
 * Measured with tf.memory() from inside the last gradient to run, on a chain of real ops on the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { customOp } from '../../src-main/engine/ops/customOp';
import { siluFast, siluPlain } from '../../src-main/engine/ops';
import { useCpuBackend } from '../golden/goldenFile';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';

const DEPTH = 12;

/** sum(silu^DEPTH(probe(x))): the probe is an identity whose gradient runs last and records the buffers alive. */
function chainGrad(silu: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, seen: number[]): tf.Tensor {
  const probe = (t: tf.Tensor) =>
    customOp([t], () => ({
      value: t.clone(),
      backward: (dy) => {
        seen.push(tf.memory().numDataBuffers);
        return [dy.clone()];
      },
    }));
  return tf.grad((a: tf.Tensor) => {
    let h = probe(a);
    for (let i = 0; i < DEPTH; i++) h = silu(h);
    return tf.sum(h);
  })(x);
}

describe('customOp: memory during the backward pass', () => {
  beforeAll(useCpuBackend);

  it('holds no saved tensor or gradient of the ops whose gradients already ran, and the gradient is unchanged', () => {
    const x = tf.randomNormal([64, 64], 0, 1, 'float32', 3);
    const buffersBefore = tf.memory().numDataBuffers;
    const tensorsBefore = tf.memory().numTensors;
    const seen: number[] = [];
    const ours = chainGrad(siluFast, x, seen);
    expect(seen).toHaveLength(1);
    // Alive at the probe's gradient: a few (the probe's dy, the sum's ones, tf.grad's own bookkeeping); without the
    // frees also the DEPTH inputs the SiLUs saved and the DEPTH gradients that flowed between them (28 in all).
    expect(seen[0] - buffersBefore).toBeLessThanOrEqual(5);
    expect(tf.memory().numTensors).toBe(tensorsBefore + 1);
    // tf's built-in SiLU gradient (its own tape, nothing freed early): the same values.
    const theirs = tf.grad((a: tf.Tensor) => {
      let h = a;
      for (let i = 0; i < DEPTH; i++) h = siluPlain(h);
      return tf.sum(h);
    })(x);
    expect(tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([x, ours, theirs]);
  });

  it('saves by sharing buffers (no Identity kernel), and frees the saved tensors of an op whose gradient never runs', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      await selectBackend(backend);
      const x = tf.tensor1d([0.5, -1, 2, 3]);
      const before = tf.memory();
      let grad: tf.Tensor | null = null;
      const profile = await tf.profile(() => {
        // Only our ops on the tape (tf's own ops save their inputs with Identity kernels).
        grad = tf.grad((a: tf.Tensor) => {
          siluFast(a); // on the tape, but not on the path to y: its gradient never runs
          return siluFast(a);
        })(x);
      });
      expect(profile.kernels.map((k) => k.name)).not.toContain('Identity');
      // Nothing left but the gradient: the unused op's saved input went with the tape.
      expect(tf.memory().numTensors).toBe(before.numTensors + 1);
      expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers + 1);
      const s = (v: number) => 1 / (1 + Math.exp(-v));
      const expected = [0.5, -1, 2, 3].map((v) => s(v) * (1 + v * (1 - s(v))));
      const got = Array.from(grad!.dataSync());
      got.forEach((g, i) => expect(g).toBeCloseTo(expected[i], 6));
      tf.dispose([x, grad!]);
    }
    await useCpuBackend();
  });
});
