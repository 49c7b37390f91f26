/**
 * Size of the UNet a config describes, without building it: the parameter count (mirroring the reference
 * UNetModel layout parameter by parameter, as src-main/engine/unet/layout.ts builds it) and a rough
 * memory estimate for the New Run form. Pure arithmetic, so the renderer can call it on every keystroke.
 */
import { isLearnedVariance } from '../diffusion/types';
import { attentionDownsampleFactors, modelOutputChannels } from './geometry';
import type { RunConfig } from './runConfig';

/** Parameters of the UNet of `cfg` (weights + biases + GroupNorm affines). */
export function unetParamCount(cfg: Pick<RunConfig, 'model' | 'diffusion'>): number {
  const m = cfg.model;
  const C = m.channels;
  const emb = 4 * C;
  const linear = (i: number, o: number) => i * o + o;
  const conv = (i: number, o: number, k: number) => o * i * k * k + o;
  const norm = (c: number) => 2 * c;
  const res = (i: number, o: number) =>
    norm(i) + conv(i, o, 3) + linear(emb, m.useScaleShiftNorm ? 2 * o : o) + norm(o) + conv(o, o, 3) + (i !== o ? conv(i, o, 1) : 0);
  const attn = (c: number) => norm(c) + conv(c, 3 * c, 1) + conv(c, c, 1);
  const attnDs = attentionDownsampleFactors({ model: m });
  const outCh = modelOutputChannels(m.imageChannels, isLearnedVariance(cfg.diffusion.varianceType));

  let n = linear(C, emb) + linear(emb, emb);
  n += conv(m.imageChannels, C, 3);
  const skips = [C];
  let ch = C;
  let ds = 1;
  m.channelMult.forEach((mult, level) => {
    for (let r = 0; r < m.numResBlocks; r++) {
      n += res(ch, mult * C);
      ch = mult * C;
      if (attnDs.includes(ds)) n += attn(ch);
      skips.push(ch);
    }
    if (level !== m.channelMult.length - 1) {
      n += conv(ch, ch, 3); // downsample, stride 2
      skips.push(ch);
      ds *= 2;
    }
  });
  n += res(ch, ch) + attn(ch) + res(ch, ch); // middle block
  for (let level = m.channelMult.length - 1; level >= 0; level--) {
    const mult = m.channelMult[level];
    for (let i = 0; i <= m.numResBlocks; i++) {
      const skip = skips.pop() ?? 0;
      n += res(ch + skip, C * mult);
      ch = C * mult;
      if (attnDs.includes(ds)) n += attn(ch);
      if (level > 0 && i === m.numResBlocks) {
        n += conv(ch, ch, 3); // upsample conv
        ds /= 2;
      }
    }
  }
  n += norm(ch) + conv(C, outCh, 3);
  return n;
}

export interface MemoryEstimate {
  params: number;
  /** Weights, gradients, AdamW moments and EMA copies, float32. */
  weightBytes: number;
  /** Activations kept for the backward pass of one (micro)batch: a rough order of magnitude. */
  activationBytes: number;
  totalBytes: number;
}

/**
 * A rough training memory estimate. Weights: 4 bytes × params × (weights + grads + 2 Adam moments +
 * one copy per EMA rate). Activations: per ResBlock ~6 feature maps of its size, per attention block
 * the heads' HW×HW attention matrix plus ~4 maps, all × the chunk size (microbatch or batch). It ignores
 * the backend's workspace and allocator slack, so real use can be 1.5–2× higher.
 */
export function estimateTrainingMemory(cfg: Pick<RunConfig, 'model' | 'diffusion' | 'training'>): MemoryEstimate {
  const params = unetParamCount(cfg);
  const m = cfg.model;
  const copies = 4 + Math.max(0, cfg.training.emaRates.length);
  const weightBytes = 4 * params * copies;
  const chunk = cfg.training.microbatch > 0 ? Math.min(cfg.training.microbatch, cfg.training.batchSize) : cfg.training.batchSize;
  const attnDs = attentionDownsampleFactors({ model: m });
  let floats = 0;
  let ds = 1;
  m.channelMult.forEach((mult) => {
    const hw = (m.imageSize / ds) ** 2;
    const c = mult * m.channels;
    // Down path numResBlocks, up path numResBlocks + 1 (with concatenated skips, ~1.5× wider).
    floats += m.numResBlocks * 6 * hw * c + (m.numResBlocks + 1) * 9 * hw * c;
    if (attnDs.includes(ds)) floats += (2 * m.numResBlocks + 1) * (m.numHeads * hw * hw + 4 * hw * c);
    ds *= 2;
  });
  const activationBytes = 4 * floats * Math.max(1, chunk);
  return { params, weightBytes, activationBytes, totalBytes: weightBytes + activationBytes };
}
