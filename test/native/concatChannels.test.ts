/**
 * concatChannels (the UNet's skip connections) on the native kernels: the value and both gradients are tf.concat's
 * bit for bit on wasm and cpu, no tfjs Concat/SplitV runs, and mismatched shapes are refused.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { loadNative } from '../../src-main/engine/native/loadNative';
import { concatChannels } from '../../src-main/engine/ops';
import { normals } from '../ops/gradCheck';

const addon = loadNative().addon;
const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer));

function valueAndGrads(concat: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D, ca: number, cb: number) {
  const a = tf.tensor4d(normals(2 * 5 * 3 * ca, 1), [2, 5, 3, ca]);
  const b = tf.tensor4d(normals(2 * 5 * 3 * cb, 2), [2, 5, 3, cb]);
  const r = tf.tensor4d(normals(2 * 5 * 3 * (ca + cb), 3), [2, 5, 3, ca + cb]);
  const value = concat(a, b);
  const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(concat(x as tf.Tensor4D, y as tf.Tensor4D), r)))([a, b]);
  const out = { value: bits(value), ga: bits(ga), gb: bits(gb), shape: value.shape };
  tf.dispose([a, b, r, value, ga, gb]);
  return out;
}

describe.skipIf(!addon?.concatChannels)('concatChannels on the native kernels', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`gives tf.concat's value and gradients bit for bit on ${backend}`, async () => {
      await selectBackend(backend);
      for (const [ca, cb] of [[64, 32], [3, 5], [1, 1]]) {
        const ours = valueAndGrads(concatChannels, ca, cb);
        const theirs = valueAndGrads((a, b) => tf.concat([a, b], 3) as tf.Tensor4D, ca, cb);
        expect(ours.shape).toEqual([2, 5, 3, ca + cb]);
        expect(ours).toEqual(theirs);
      }
    });
  }

  it('runs no tfjs Concat or SplitV', async () => {
    await selectBackend('wasm');
    const a = tf.ones([2, 4, 4, 8]) as tf.Tensor4D;
    const b = tf.zeros([2, 4, 4, 8]) as tf.Tensor4D;
    const info = await tf.profile(() => {
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(concatChannels(x as tf.Tensor4D, y as tf.Tensor4D)))([a, b]);
      tf.dispose(g);
    });
    const names = info.kernels.map((k) => k.name);
    expect(names).not.toContain('Concat');
    expect(names).not.toContain('SplitV');
    tf.dispose([a, b]);
  });

  it('refuses tensors that differ outside the channel axis', async () => {
    await selectBackend('wasm');
    const a = tf.zeros([2, 4, 4, 8]) as tf.Tensor4D;
    const b = tf.zeros([2, 4, 2, 8]) as tf.Tensor4D;
    expect(() => concatChannels(a, b)).toThrow(/\[2,4,4,8\] and \[2,4,2,8\] differ outside the channel axis/);
    tf.dispose([a, b]);
  });
});
