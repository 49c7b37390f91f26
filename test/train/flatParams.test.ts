/**
 * The flat parameter vector and its named views (src-main/engine/train/flatParams.ts). The trainer takes its
 * gradient with respect to the named tensors and flattens it (valueAndFlatGrad) instead of differentiating through
 * unflatten's Split and Reshapes; both must give the same bits, on the backends whose direct copies it uses.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { diffusionFromConfig } from '../../src-main/engine/diffusion/fromConfig';
import { trainingLosses } from '../../src-main/engine/diffusion/losses';
import { Rng } from '../../src-main/engine/rng';
import { flatLayout, flatten, unflatten, valueAndFlatGrad } from '../../src-main/engine/train/flatParams';
import { buildLayout } from '../../src-main/engine/unet/layout';
import { unetForward } from '../../src-main/engine/unet/forward';
import { unetSpecFromConfig } from '../../src-main/engine/unet/spec';
import { disposeWeights, initWeights, type WeightMap } from '../../src-main/engine/unet/weights';
import { tinyConfig } from './tinyRun';

const cfg = tinyConfig();
const layout = buildLayout(unetSpecFromConfig(cfg));
const fl = flatLayout(layout);
const diffusion = diffusionFromConfig(cfg);

function bits(t: tf.Tensor): Uint32Array {
  return new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer);
}

/** A hybrid-loss training batch on the tiny UNet: the loss as a function of the named weights. */
function batchLoss(): { lossOf: (w: WeightMap) => tf.Scalar; dispose: () => void } {
  const rng = new Rng(7);
  const n = 3;
  const x0 = tf.tensor4d(rng.normalArray(n * 64), [n, 8, 8, 1]);
  const noise = tf.tensor4d(rng.normalArray(n * 64), [n, 8, 8, 1]);
  const t = [0, 7, 19];
  return {
    lossOf: (w) => {
      const model = (x: tf.Tensor4D, times: tf.Tensor1D) => unetForward(layout, w, x, times);
      return tf.mean(trainingLosses(diffusion, model, x0, t, noise).loss) as tf.Scalar;
    },
    dispose: () => tf.dispose([x0, noise]),
  };
}

afterAll(async () => {
  await selectBackend('wasm');
});

describe.each(['wasm', 'cpu'] as const)('flat parameters on %s', (backend) => {
  it('the gradient taken per named tensor and flattened has the same bits as the gradient through unflatten', async () => {
    await selectBackend(backend);
    const init = initWeights(layout, new Rng(11));
    const params = flatten(fl, init);
    disposeWeights(init);
    const { lossOf, dispose } = batchLoss();
    const before = tf.memory().numTensors;
    const ours = valueAndFlatGrad(fl, params, lossOf);
    expect(tf.memory().numTensors).toBe(before + 2); // the value and the gradient, nothing else left behind
    // The reference: differentiate through unflatten (under the tape it is tf.split + reshape, differentiable).
    const theirs = tf.valueAndGrad((p: tf.Tensor) => {
      const w = unflatten(fl, p as tf.Tensor1D);
      return lossOf(w);
    })(params);
    expect(ours.grad.shape).toEqual([fl.total]);
    expect(bits(ours.value)).toEqual(bits(theirs.value));
    expect(bits(ours.grad)).toEqual(bits(theirs.grad));
    expect(tf.max(tf.abs(ours.grad)).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([params, ours.value, ours.grad, theirs.value, theirs.grad]);
    dispose();
  });

  it('a parameter the loss does not reach gets a zero gradient', async () => {
    await selectBackend(backend);
    const init = initWeights(layout, new Rng(3));
    const params = flatten(fl, init);
    disposeWeights(init);
    const used = 1; // one tensor of the model (random at init), the only one the loss reads
    const { value, grad } = valueAndFlatGrad(fl, params, (w) => tf.sum(tf.square(w.get(fl.names[used])!)) as tf.Scalar);
    const g = grad.dataSync();
    const offset = fl.sizes.slice(0, used).reduce((a, b) => a + b, 0);
    const p = params.dataSync();
    const wrongAt: number[] = [];
    for (let i = 0; i < fl.total; i++) {
      const inBias = i >= offset && i < offset + fl.sizes[used];
      if (g[i] !== (inBias ? Math.fround(2 * p[i]) : 0)) wrongAt.push(i);
    }
    expect(wrongAt).toEqual([]);
    expect(Array.from(g.subarray(offset, offset + fl.sizes[used])).some((v) => v !== 0)).toBe(true);
    tf.dispose([params, value, grad]);
  });

  it('flatten and unflatten copy every value exactly and say which parameter does not fit', async () => {
    await selectBackend(backend);
    const init = initWeights(layout, new Rng(5));
    const flat = flatten(fl, init);
    const back = unflatten(fl, flat);
    for (const [name, t] of init) {
      expect(back.get(name)!.shape).toEqual(t.shape);
      expect(bits(back.get(name)!)).toEqual(bits(t));
    }
    const wrong = new Map(init);
    const first = fl.names[0];
    const misfit = tf.zeros([3]);
    wrong.set(first, misfit);
    expect(() => flatten(fl, wrong)).toThrow(`parameter ${first} has 3 values; the model expects ${fl.sizes[0]}`);
    wrong.delete(first);
    expect(() => flatten(fl, wrong)).toThrow(`parameter ${first} is missing`);
    const short = tf.zeros([fl.total - 1]) as tf.Tensor1D;
    expect(() => unflatten(fl, short)).toThrow(`the flat vector has ${fl.total - 1} values; the model has ${fl.total} parameters`);
    tf.dispose([flat, short, misfit]);
    disposeWeights(init);
    disposeWeights(back);
  });
});
