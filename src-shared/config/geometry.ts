/**
 * Shape facts about the UNet that follow from the config alone (SPEC §7), shared by the validator,
 * the reference-flag mapping, the New Run form and the engine, so all of them agree on what
 * "attention at 16" or "level 2" means.
 */
import type { ModelConfig } from './runConfig';

/** GroupNorm in the reference always uses 32 groups, so every normalised channel count is a multiple of 32. */
export const GROUP_NORM_GROUPS = 32;

/** The reference's channel multipliers by image size (script_util.create_model); it rejects other sizes. */
const REFERENCE_CHANNEL_MULT: Readonly<Record<number, readonly number[]>> = {
  256: [1, 1, 2, 2, 4, 4],
  64: [1, 2, 3, 4],
  32: [1, 2, 2, 2],
};

/** Image sizes the reference's create_model accepts. */
export const REFERENCE_IMAGE_SIZES: readonly number[] = Object.keys(REFERENCE_CHANNEL_MULT)
  .map(Number)
  .sort((a, b) => a - b);

/**
 * The reference's channel_mult for an image size, or undefined for sizes the reference does not support
 * (the studio's presets choose their own there, e.g. MNIST at 32 with [1,2,2]).
 */
export function referenceChannelMult(imageSize: number): number[] | undefined {
  const m = REFERENCE_CHANNEL_MULT[imageSize];
  return m ? [...m] : undefined;
}

/** Resolution (pixels) at each level: imageSize, imageSize/2, … (one level per channelMult entry). */
export function levelResolutions(model: Pick<ModelConfig, 'imageSize' | 'channelMult'>): number[] {
  return model.channelMult.map((_, level) => model.imageSize / 2 ** level);
}

/**
 * Downsample factors ds = imageSize // res for each attention resolution, exactly as the reference's
 * create_model computes them (integer floor division). The UNet adds attention wherever its running
 * ds (1, 2, 4, …) is in this list; a resolution that does not divide the image size therefore floors
 * to some other level or to none, which is why validateRunConfig insists on reachable resolutions.
 */
export function attentionDownsampleFactors(
  cfg: { model: Pick<ModelConfig, 'imageSize' | 'attentionResolutions'> },
): number[] {
  return cfg.model.attentionResolutions.map((res) => Math.floor(cfg.model.imageSize / res));
}

/** Levels (0-based) that get attention blocks, following the reference's ds test. */
export function attentionLevels(
  model: Pick<ModelConfig, 'imageSize' | 'attentionResolutions' | 'channelMult'>,
): number[] {
  const ds = new Set(attentionDownsampleFactors({ model }));
  return model.channelMult.map((_, level) => level).filter((level) => ds.has(2 ** level));
}

/** Heads of the attention blocks on the way up: numHeadsUpsample, or numHeads when it is -1. */
export function effectiveUpsampleHeads(model: Pick<ModelConfig, 'numHeads' | 'numHeadsUpsample'>): number {
  return model.numHeadsUpsample === -1 ? model.numHeads : model.numHeadsUpsample;
}

/** Output channels of the network: ε only, or [ε | v] when the variance is learned (SPEC §3). */
export function modelOutputChannels(imageChannels: number, learnedVariance: boolean): number {
  return learnedVariance ? 2 * imageChannels : imageChannels;
}
