/**
 * The UNet forward pass frees each activation once nothing later reads it, as PyTorch does: without a gradient
 * tape (sampling, evaluation) the memory in use at a decoder block is the skip connections still waiting plus that
 * block's own work, not every activation of the pass so far (which took a sampling call of 64 images to twice the
 * training step's memory). Measured with tf.memory() at each block on the cpu backend, on a real UNet.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildLayout } from '../../src-main/engine/unet/layout';
import { unetForward } from '../../src-main/engine/unet/forward';
import { unetSpecFromReferenceKwargs } from '../../src-main/engine/unet/spec';
import { disposeWeights, initWeights } from '../../src-main/engine/unet/weights';
import { Rng } from '../../src-main/engine/rng';
import { useCpuBackend } from '../golden/goldenFile';

describe('UNet forward: memory in use', () => {
  beforeAll(useCpuBackend);

  it('at each decoder block is the waiting skip connections plus that block, and nothing leaks', () => {
    const layout = buildLayout(
      unetSpecFromReferenceKwargs({ in_channels: 3, model_channels: 32, out_channels: 6, num_res_blocks: 2, attention_resolutions: [2], channel_mult: [1, 2, 2], num_heads: 2, use_scale_shift_norm: true }),
    );
    const weights = initWeights(layout, new Rng(1));
    const x = tf.randomNormal([4, 16, 16, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const times = tf.tensor1d([1, 200, 500, 999]);
    const base = tf.memory().numBytes;
    const tensorsBefore = tf.memory().numTensors;
    // Block outputs in order; the decoder block k consumes the skip of encoder block (E − 1 − k).
    const seen: { name: string; bytes: number; inUse: number }[] = [];
    const out = unetForward(layout, weights, x, times, {
      onBlock: (name, value) => seen.push({ name, bytes: value.size * 4, inUse: tf.memory().numBytes - base }),
    });
    const encoder = seen.filter((s) => s.name.startsWith('input_blocks.'));
    const decoder = seen.filter((s) => s.name.startsWith('output_blocks.'));
    expect(decoder.length).toBe(encoder.length);
    const everything = seen.reduce((s, b) => s + b.bytes, 0);
    decoder.forEach((d, k) => {
      const waiting = encoder.slice(0, encoder.length - 1 - k).reduce((s, b) => s + b.bytes, 0);
      // The waiting skips, this block's output and the small time embedding; never the finished blocks' work.
      expect(d.inUse, `${d.name}: ${d.inUse} bytes in use, ${waiting} in waiting skips`).toBeLessThanOrEqual(waiting + 2 * d.bytes);
    });
    // Without the frees the last block alone would see every block output of the pass still held.
    expect(decoder.at(-1)!.inUse).toBeLessThan(everything / 4);
    out.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    tf.dispose([x, times]);
    disposeWeights(weights);
  });
});
