import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activeNative } from '../../src-main/engine/ops';
import { buildLayout } from '../../src-main/engine/unet/layout';
import { unetForward } from '../../src-main/engine/unet/forward';
import { unetSpecFromReferenceKwargs } from '../../src-main/engine/unet/spec';
import { disposeWeights, loadReferenceWeights } from '../../src-main/engine/unet/weights';
import { expectClose, golden, nhwc, toNchwArray, useCpuBackend } from '../golden/goldenFile';
import { recipeWeights } from './recipeWeights';

describe('golden: UNet parameter layout', () => {
  const g = golden().unet;
  it('names and shapes match the reference named_parameters, in order', () => {
    const layout = buildLayout(unetSpecFromReferenceKwargs(g.tiny.kwargs));
    expect(layout.params.map((p) => [p.name, p.refShape])).toEqual(g.tiny.named_parameters);
    expect(layout.paramCount).toBe(g.tiny.num_params);
  });

  for (const [name, c] of Object.entries<any>(g.param_counts)) {
    it(`parameter count of ${name}`, () => {
      const kwargs = c.kwargs ?? {
        in_channels: 3,
        model_channels: c.flags.num_channels,
        out_channels: c.flags.learn_sigma ? 6 : 3,
        num_res_blocks: c.flags.num_res_blocks,
        attention_resolutions: c.attention_ds,
        channel_mult: c.channel_mult,
        num_heads: 4,
        use_scale_shift_norm: true,
        num_classes: c.flags.class_cond ? 1000 : null,
      };
      expect(buildLayout(unetSpecFromReferenceKwargs(kwargs)).paramCount).toBe(c.num_params);
    });
  }
});

describe('golden: UNet forward', () => {
  beforeAll(useCpuBackend);
  const g = golden().unet_forward;
  for (const [name, c] of Object.entries<any>(g).filter(([, v]) => typeof v === 'object' && v.kwargs)) {
    it(`${name}: output within 1e-4 and every block's statistics`, () => {
      const layout = buildLayout(unetSpecFromReferenceKwargs(c.kwargs));
      expect(layout.params.map((p) => [p.name, p.refShape])).toEqual(c.named_parameters);
      expect(layout.paramCount).toBe(c.num_params);
      const weights = loadReferenceWeights(layout, recipeWeights(layout));
      const before = tf.memory().numTensors;
      const blocks = new Map<string, Float32Array>();
      const x = nhwc(g.x);
      const times = tf.tensor1d(g.timesteps, 'float32');
      const out = unetForward(layout, weights, x, times, {
        onBlock: (block, value) => blocks.set(block, value.rank === 4 ? toNchwArray(value) : Float32Array.from(value.dataSync())),
      });
      const output = toNchwArray(out);
      // The margin to the tolerance, in every run's log (float32 rounding of ~70 convolutions, amplified by the net).
      const worst = output.reduce((m, v, i) => Math.max(m, Math.abs(v - c.output.data[i])), 0);
      console.log(`golden UNet ${name} (${activeNative() ? 'native' : 'tfjs'} kernels): max |output − golden| ${worst.toExponential(2)} (tolerance 1e-4)`);
      expectClose(output, c.output.data, { atol: 1e-4, rtol: 0, label: `${name} output` });
      for (const stat of c.intermediates) {
        const v = blocks.get(stat.block);
        expect(v, `block ${stat.block} reported`).toBeDefined();
        expectClose(v!.slice(0, 8), stat.first8, { atol: 1e-4, rtol: 1e-4, label: `${stat.block} first8` });
        const mean = v!.reduce((s, a) => s + a, 0) / v!.length;
        const absSum = v!.reduce((s, a) => s + Math.abs(a), 0);
        expectClose([mean], [stat.mean], { atol: 1e-5, rtol: 1e-3, label: `${stat.block} mean` });
        expectClose([absSum], [stat.abs_sum], { atol: 1e-3, rtol: 1e-4, label: `${stat.block} abs_sum` });
      }
      tf.dispose([out, x, times]);
      expect(tf.memory().numTensors).toBe(before);
      disposeWeights(weights);
    });
  }
});
