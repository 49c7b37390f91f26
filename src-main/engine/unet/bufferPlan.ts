/**
 * The largest single GPU buffers a UNet needs, and a check against an adapter's limits before any work starts.
 *
 * WebGPU caps every buffer (maxBufferSize) and every buffer a shader binds (maxStorageBufferBindingSize); one
 * tensor is one buffer, so a tensor over the cap is a device error mid-step, or a lost device. The big ones are
 * known from the config: the flat parameter vector (and its gradient and the AdamW moments, the same size), the
 * attention weights [batch·heads, T, T] at each attention resolution, and the widest activation (the decoder's
 * concatenation of the upsampled features with the skip connection). Estimates in float32, as the engine stores.
 */
import type { RunConfig } from '../../../src-shared/config/runConfig';
import { buildLayout } from './layout';
import { unetSpecFromConfig, type UNetSpec } from './spec';

export interface BufferNeed {
  /** What the buffer holds, in words. */
  what: string;
  /** Bytes for the whole batch. */
  bytes: number;
  /** Bytes per sample of the batch; 0 when the size does not depend on the batch. */
  perSample: number;
}

export interface BufferLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/** The largest buffers of one forward/backward pass over `batch` images of `imageSize` pixels, largest first. */
export function largestBuffers(spec: UNetSpec, paramCount: number, imageSize: number, batch: number): BufferNeed[] {
  const F = 4;
  const needs: BufferNeed[] = [
    { what: `the flat parameter vector (${paramCount.toLocaleString('en-US')} parameters; its gradient and AdamW moments are as large)`, bytes: paramCount * F, perSample: 0 },
  ];
  const C = spec.modelChannels;
  const mult = spec.channelMult;
  for (let level = 0; level < mult.length; level++) {
    const r = imageSize / 2 ** level;
    if (r < 1) break;
    const below = mult[Math.min(level + 1, mult.length - 1)];
    const channels = C * (mult[level] + below);
    const per = r * r * channels * F;
    needs.push({ what: `the decoder's concatenated features at ${r}×${r} (${channels} channels)`, bytes: per * batch, perSample: per });
    if (spec.attentionDs.includes(2 ** level)) {
      const heads = Math.max(spec.numHeads, spec.numHeadsUpsample > 0 ? spec.numHeadsUpsample : 0);
      const T = r * r;
      const perAttn = heads * T * T * F;
      needs.push({ what: `the attention weights at ${r}×${r} (${heads} heads × ${T}² per sample)`, bytes: perAttn * batch, perSample: perAttn });
    }
  }
  return needs.sort((a, b) => b.bytes - a.bytes);
}

function size(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Throws when one buffer would exceed the adapter's limits, saying what was asked, what the adapter allows and
 * which setting to lower (`batchSetting`, e.g. "training.microbatch", or the model's width when even one sample
 * or the parameters alone do not fit).
 */
export function assertBuffersFit(needs: BufferNeed[], limits: BufferLimits, adapter: string, batch: number, batchSetting: string): void {
  const cap = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const capName = limits.maxStorageBufferBindingSize <= limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  // Of the buffers over the cap, the one with the most bytes per sample sets the largest batch that fits.
  const overs = needs.filter((n) => n.bytes > cap);
  if (overs.length === 0) return;
  const fixed = overs.find((n) => n.perSample === 0 || n.perSample > cap);
  const over = fixed ?? overs.reduce((a, b) => (b.perSample > a.perSample ? b : a));
  const allows = `the adapter ${adapter} allows ${size(cap)} per buffer (${capName})`;
  if (over.perSample === 0 || over.perSample > cap) {
    throw new Error(
      `${over.what} needs one GPU buffer of ${size(over.perSample === 0 ? over.bytes : over.perSample)}${over.perSample ? ' per sample' : ''}, but ${allows}. ` +
        'Lower model.channels, model.channelMult or model.attentionResolutions, or use a backend without this limit (--backend wasm).',
    );
  }
  const fits = Math.floor(cap / over.perSample);
  throw new Error(
    `${batchSetting} ${batch} needs one GPU buffer of ${size(over.bytes)} for ${over.what}, but ${allows}. ` +
      `Set ${batchSetting} to ${fits} or less.`,
  );
}

/**
 * The check for a run's model at a given batch on the adapter `report.adapter` names (no-op on other backends).
 * `batchSetting` is the setting a user lowers: "training.microbatch", "training.batchSize", "--batch".
 */
export function assertModelFitsAdapter(
  cfg: Pick<RunConfig, 'model' | 'diffusion'>,
  adapter: (BufferLimits & { description: string; vendor: string }) | undefined,
  batch: number,
  batchSetting: string,
): void {
  if (!adapter) return;
  const layout = buildLayout(unetSpecFromConfig(cfg));
  const needs = largestBuffers(layout.spec, layout.paramCount, cfg.model.imageSize, batch);
  assertBuffersFit(needs, adapter, adapter.description || adapter.vendor || 'in use', batch, batchSetting);
}
