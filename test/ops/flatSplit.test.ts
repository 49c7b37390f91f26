/**
 * splitFlat (the trainer's flat parameter vector into the network's weights, as block copies) gives the very
 * values of tf.split, and its gradient the very gradient of tf.split's (zeros for unused pieces), on wasm and cpu,
 * without leaking tensors; a vector of the wrong length is refused.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { splitFlat } from '../../src-main/engine/ops/flatSplit';
import { normals } from './gradCheck';

const SHAPES = [[3, 3, 2, 4], [4], [1], [5, 7], [2, 2, 2], [64, 33]];
const TOTAL = SHAPES.reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer));

/** Σ_i Σ piece_i · R_i · (i+1)² over every piece but the 3rd (unused: its gradient must be zeros). */
function loss(pieces: tf.Tensor[]): tf.Scalar {
  const terms = pieces.map((p, i) => (i === 2 ? null : tf.sum(tf.mul(tf.mul(p, tf.tensor(normals(p.size, 40 + i), p.shape)), (i + 1) ** 2))));
  return tf.addN(terms.filter((t): t is tf.Scalar => t !== null)) as tf.Scalar;
}

describe('splitFlat', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`matches tf.split's values and gradient bit for bit on ${backend}`, async () => {
      await selectBackend(backend);
      const flat = tf.tensor1d(normals(TOTAL, 7));
      const before = tf.memory().numTensors;
      const ours = splitFlat(flat, SHAPES);
      const theirs = tf.tidy(() => tf.split(flat, SHAPES.map((s) => s.reduce((a, b) => a * b, 1))).map((p, i) => tf.reshape(p, SHAPES[i])));
      ours.forEach((p, i) => {
        expect(p.shape).toEqual(SHAPES[i]);
        expect(bits(p)).toEqual(bits(theirs[i]));
      });
      tf.dispose([...ours, ...theirs]);
      expect(tf.memory().numTensors).toBe(before);

      const gOurs = tf.grad((x: tf.Tensor) => loss(splitFlat(x as tf.Tensor1D, SHAPES)))(flat);
      const gTheirs = tf.grad((x: tf.Tensor) => loss(tf.split(x, SHAPES.map((s) => s.reduce((a, b) => a * b, 1))).map((p, i) => tf.reshape(p, SHAPES[i]))))(flat);
      expect(gOurs.shape).toEqual([TOTAL]);
      expect(bits(gOurs)).toEqual(bits(gTheirs));
      // the unused third piece (offset 72 + 4, one value) got a zero gradient, the others did not
      expect(gOurs.dataSync()[76]).toBe(0);
      expect(gOurs.dataSync()[0]).not.toBe(0);
      tf.dispose([gOurs, gTheirs]);
      expect(tf.memory().numTensors).toBe(before);
      flat.dispose();
    });
  }

  it('refuses a vector whose length is not the sum of the pieces', async () => {
    await selectBackend('wasm');
    const flat = tf.zeros([10]) as tf.Tensor1D;
    expect(() => splitFlat(flat, [[3], [4]])).toThrow(/shape \[10\]; the pieces need \[7\]/);
    flat.dispose();
  });
});
