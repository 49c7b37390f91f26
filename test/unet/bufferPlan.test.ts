/**
 * Batch planning against a WebGPU adapter's buffer limits: the largest buffers of real UNet layouts, and the error
 * that says what was asked, what the adapter allows and which setting to lower (with a value that then fits).
 */
import { describe, expect, it } from 'vitest';
import { buildLayout } from '../../src-main/engine/unet/layout';
import { assertBuffersFit, assertModelFitsAdapter, largestBuffers } from '../../src-main/engine/unet/bufferPlan';
import { unetSpecFromConfig } from '../../src-main/engine/unet/spec';
import { tinyConfig } from '../train/tinyRun';

const MiB = 2 ** 20;
const adapter = (cap: number) => ({ description: 'Test GPU', vendor: 'test', maxStorageBufferBindingSize: cap, maxBufferSize: 2 * cap });

// 64×64 images, attention at 16×16 and 8×8 (4 heads), channels 64 × [1, 2, 3, 4].
const cfg = tinyConfig({
  model: { imageSize: 64, imageChannels: 3, channels: 64, channelMult: [1, 2, 3, 4], attentionResolutions: [16, 8], numHeads: 4 },
});

describe('largestBuffers', () => {
  it('lists the parameter vector, the widest activations and the attention weights, largest first', () => {
    const layout = buildLayout(unetSpecFromConfig(cfg));
    const needs = largestBuffers(layout.spec, layout.paramCount, 64, 8);
    const attn16 = needs.find((n) => n.what.startsWith('the attention weights at 16×16'))!;
    expect(attn16.perSample).toBe(4 * 256 * 256 * 4); // heads × T² floats
    expect(attn16.bytes).toBe(8 * attn16.perSample);
    const top = needs.find((n) => n.what.startsWith("the decoder's concatenated features at 64×64"))!;
    expect(top.perSample).toBe(64 * 64 * (64 + 128) * 4);
    expect(needs[0].bytes).toBeGreaterThanOrEqual(needs.at(-1)!.bytes);
    expect(needs.find((n) => n.perSample === 0)!.bytes).toBe(layout.paramCount * 4);
  });
});

describe('assertModelFitsAdapter', () => {
  it('names the batch setting, what it needs, what the adapter allows, and a value that fits', () => {
    let message = '';
    try {
      assertModelFitsAdapter(cfg, adapter(64 * MiB), 64, 'training.microbatch');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(
      /^training\.microbatch 64 needs one GPU buffer of 192\.0 MiB for the decoder's concatenated features at 64×64 \(192 channels\), but the adapter Test GPU allows 64\.0 MiB per buffer \(maxStorageBufferBindingSize\)\. Set training\.microbatch to (\d+) or less\.$/,
    );
    const fits = Number(/to (\d+) or less/.exec(message)![1]);
    expect(fits).toBe(21); // 64 MiB / 3 MiB per sample (64² pixels × 192 channels × 4 bytes)
    expect(() => assertModelFitsAdapter(cfg, adapter(64 * MiB), fits, 'training.microbatch')).not.toThrow();
    expect(() => assertModelFitsAdapter(cfg, adapter(64 * MiB), fits + 1, 'training.microbatch')).toThrow(/Set training\.microbatch to 21 or less/);
  });

  it('parameters that alone exceed the limit ask for a smaller model, not a smaller batch', () => {
    expect(() => assertModelFitsAdapter(cfg, adapter(8 * MiB), 1, 'training.batchSize')).toThrow(
      /^the flat parameter vector \([\d,]+ parameters; .*\) needs one GPU buffer of [\d.]+ MiB, but the adapter Test GPU allows 8\.0 MiB per buffer \(maxStorageBufferBindingSize\)\. Lower model\.channels/,
    );
  });

  it('no adapter (a CPU backend): nothing to check', () => {
    expect(() => assertModelFitsAdapter(cfg, undefined, 100_000, 'training.batchSize')).not.toThrow();
  });

  it('the smaller of the two limits is the one named', () => {
    const needs = [
      { what: 'x', bytes: 300, perSample: 100 },
      { what: 'y', bytes: 270, perSample: 90 },
    ];
    expect(() => assertBuffersFit(needs, { maxStorageBufferBindingSize: 1000, maxBufferSize: 250 }, 'A', 3, 'b')).toThrow(/\(maxBufferSize\)\. Set b to 2 or less\.$/);
  });
});
