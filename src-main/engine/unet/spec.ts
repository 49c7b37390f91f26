/**
 * The UNet's hyper-parameters, in the reference's terms (improved_diffusion/unet.py UNetModel), and how a
 * run configuration maps onto them.
 */
import { attentionDownsampleFactors } from '../../../src-shared/config/geometry';
import type { RunConfig } from '../../../src-shared/config/runConfig';
import { isLearnedVariance } from '../../../src-shared/diffusion/types';

export interface UNetSpec {
  inChannels: number;
  /** Base width C (`model_channels`). */
  modelChannels: number;
  /** C_img, or 2·C_img with a learned variance. */
  outChannels: number;
  numResBlocks: number;
  /** Downsample factors (1 = full resolution) at which blocks get self-attention. */
  attentionDs: number[];
  dropout: number;
  channelMult: number[];
  numHeads: number;
  /** Heads on the way up; −1 = numHeads. */
  numHeadsUpsample: number;
  useScaleShiftNorm: boolean;
  /** Class-conditional models have a label embedding (`label_emb`); the studio trains unconditional ones. */
  numClasses?: number;
}

export function unetSpecFromConfig(cfg: Pick<RunConfig, 'model' | 'diffusion'>): UNetSpec {
  const m = cfg.model;
  return {
    inChannels: m.imageChannels,
    modelChannels: m.channels,
    outChannels: isLearnedVariance(cfg.diffusion.varianceType) ? 2 * m.imageChannels : m.imageChannels,
    numResBlocks: m.numResBlocks,
    attentionDs: attentionDownsampleFactors(cfg),
    dropout: m.dropout,
    channelMult: [...m.channelMult],
    numHeads: m.numHeads,
    numHeadsUpsample: m.numHeadsUpsample,
    useScaleShiftNorm: m.useScaleShiftNorm,
  };
}

/** The reference's keyword arguments (as in golden `unet` kwargs) → a spec. */
export function unetSpecFromReferenceKwargs(k: {
  in_channels: number;
  model_channels: number;
  out_channels: number;
  num_res_blocks: number;
  attention_resolutions: number[];
  dropout?: number;
  channel_mult: number[];
  num_heads?: number;
  num_heads_upsample?: number;
  use_scale_shift_norm?: boolean;
  num_classes?: number | null;
}): UNetSpec {
  return {
    inChannels: k.in_channels,
    modelChannels: k.model_channels,
    outChannels: k.out_channels,
    numResBlocks: k.num_res_blocks,
    attentionDs: [...k.attention_resolutions],
    dropout: k.dropout ?? 0,
    channelMult: [...k.channel_mult],
    numHeads: k.num_heads ?? 1,
    numHeadsUpsample: k.num_heads_upsample ?? -1,
    useScaleShiftNorm: k.use_scale_shift_norm ?? false,
    numClasses: k.num_classes ?? undefined,
  };
}
