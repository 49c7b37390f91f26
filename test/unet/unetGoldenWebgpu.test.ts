/**
 * The golden UNet forward (../shared/golden/golden.json) on the webgpu backend, on Chromium's SwiftShader adapter:
 * the output within SPEC.md's UNet tolerance (1e-4 absolute) and every block's statistics, as unetGolden.test.ts
 * checks them on cpu. Values are read with data(): webgpu cannot read synchronously in Node.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { buildLayout } from '../../src-main/engine/unet/layout';
import { unetForward } from '../../src-main/engine/unet/forward';
import { unetSpecFromReferenceKwargs } from '../../src-main/engine/unet/spec';
import { disposeWeights, loadReferenceWeights } from '../../src-main/engine/unet/weights';
import { softwareWebGpu } from '../backend/softwareWebGpu';
import { expectClose, golden, nhwc } from '../golden/goldenFile';
import { recipeWeights } from './recipeWeights';

async function nchw(x: tf.Tensor): Promise<Float32Array> {
  const t = x.rank === 4 ? tf.transpose(x, [0, 3, 1, 2]) : x.clone();
  const out = Float32Array.from((await t.data()) as Float32Array);
  t.dispose();
  return out;
}

const gpu = await softwareWebGpu();

describe.skipIf(gpu.skip !== null)('golden: UNet forward on webgpu (SwiftShader)', () => {
  beforeAll(async () => {
    expect((await selectBackend('webgpu')).tfBackend).toBe('webgpu');
  });
  const g = golden().unet_forward;
  for (const [name, c] of Object.entries<any>(g).filter(([, v]) => typeof v === 'object' && v.kwargs)) {
    it(`${name}: output within 1e-4 and every block's statistics`, async () => {
      const layout = buildLayout(unetSpecFromReferenceKwargs(c.kwargs));
      const weights = loadReferenceWeights(layout, recipeWeights(layout));
      const before = tf.memory().numTensors;
      const blocks = new Map<string, tf.Tensor>();
      const x = nhwc(g.x);
      const times = tf.tensor1d(g.timesteps, 'float32');
      const out = unetForward(layout, weights, x, times, { onBlock: (block, value) => blocks.set(block, tf.keep(value.clone())) });
      expectClose(await nchw(out), c.output.data, { atol: 1e-4, rtol: 0, label: `${name} output` });
      for (const stat of c.intermediates) {
        const t = blocks.get(stat.block);
        expect(t, `block ${stat.block} reported`).toBeDefined();
        const v = await nchw(t!);
        expectClose(v.slice(0, 8), stat.first8, { atol: 1e-4, rtol: 1e-4, label: `${stat.block} first8` });
        const mean = v.reduce((s, a) => s + a, 0) / v.length;
        const absSum = v.reduce((s, a) => s + Math.abs(a), 0);
        expectClose([mean], [stat.mean], { atol: 1e-5, rtol: 1e-3, label: `${stat.block} mean` });
        expectClose([absSum], [stat.abs_sum], { atol: 1e-3, rtol: 1e-4, label: `${stat.block} abs_sum` });
      }
      tf.dispose([out, x, times, ...blocks.values()]);
      expect(tf.memory().numTensors).toBe(before);
      disposeWeights(weights);
    });
  }
});
