/**
 * What a reference UNet state dict tells about its architecture through its tensor names and shapes
 * (improved_diffusion/unet.py UNetModel): base width, input/output channels (so learned Σ), ResBlocks per
 * level, channel multipliers, where attention sits, and scale-shift norm. What it cannot tell — the image
 * size, the attention heads, anything about the diffusion — the caller must get from the run's flags.
 */

export interface ShapeOnly {
  shape: readonly number[];
}

export interface InferredArchitecture {
  /** num_channels (model_channels). */
  channels: number;
  imageChannels: number;
  outChannels: number;
  /** learn_sigma: the head outputs [ε | v]. */
  learnSigma: boolean;
  numResBlocks: number;
  channelMult: number[];
  /** Downsample factors (1, 2, 4, …) of the levels whose ResBlocks have attention. */
  attentionDs: number[];
  useScaleShiftNorm: boolean;
  /** label_emb present: a class-conditional model. */
  classCond: boolean;
  /** Elements of all tensors, i.e. the parameter count. */
  paramCount: number;
}

type InputBlock = { kind: 'res'; out: number; attention: boolean } | { kind: 'down' };

export function inferArchitecture(sd: ReadonlyMap<string, ShapeOnly>, source: string): InferredArchitecture {
  const shape = (name: string): readonly number[] => {
    const t = sd.get(name);
    if (!t) {
      throw new Error(`${source} is not a state dict of the reference UNet: it has no ${name} (keys start ${[...sd.keys()].slice(0, 3).join(', ')})`);
    }
    return t.shape;
  };
  const [emb, channels] = shape('time_embed.0.weight');
  if (emb !== 4 * channels) throw new Error(`${source}: time_embed.0.weight is [${emb}, ${channels}], the reference UNet has [4·C, C]`);
  const [, imageChannels] = shape('input_blocks.0.0.weight');
  const [outChannels] = shape('out.2.weight');
  let learnSigma: boolean;
  if (outChannels === 2 * imageChannels) learnSigma = true;
  else if (outChannels === imageChannels) learnSigma = false;
  else throw new Error(`${source}: the network outputs ${outChannels} channels for ${imageChannels} input channels; expected ${imageChannels} or ${2 * imageChannels}`);

  const blocks: InputBlock[] = [];
  for (let k = 1; sd.has(`input_blocks.${k}.0.op.weight`) || sd.has(`input_blocks.${k}.0.in_layers.2.weight`); k++) {
    if (sd.has(`input_blocks.${k}.0.op.weight`)) blocks.push({ kind: 'down' });
    else blocks.push({ kind: 'res', out: shape(`input_blocks.${k}.0.in_layers.2.weight`)[0], attention: sd.has(`input_blocks.${k}.1.qkv.weight`) });
  }
  // Levels are separated by downsamples; the last level has none after it.
  const levels: { out: number; attention: boolean }[][] = [[]];
  for (const b of blocks) {
    if (b.kind === 'down') levels.push([]);
    else levels[levels.length - 1].push(b);
  }
  const numResBlocks = levels[0].length;
  const channelMult: number[] = [];
  const attentionDs: number[] = [];
  levels.forEach((level, i) => {
    if (level.length !== numResBlocks) {
      throw new Error(`${source}: level ${i} has ${level.length} ResBlocks but level 0 has ${numResBlocks}; the reference UNet has num_res_blocks on every level`);
    }
    const width = level.length ? level[0].out : i === 0 ? channels : channelMult[i - 1] * channels;
    if (width % channels !== 0 || level.some((b) => b.out !== width)) {
      throw new Error(`${source}: the ResBlocks of level ${i} are not all a multiple of the base width ${channels}`);
    }
    channelMult.push(width / channels);
    if (level.some((b) => b.attention)) attentionDs.push(2 ** i);
  });
  if (numResBlocks === 0) {
    throw new Error(`${source}: no ResBlocks on the way down (num_res_blocks 0), which the studio cannot build`);
  }

  const middleEmb = shape('middle_block.0.emb_layers.1.weight')[0];
  const middleWidth = shape('middle_block.0.in_layers.0.weight')[0];
  const useScaleShiftNorm = middleEmb === 2 * middleWidth;

  let paramCount = 0;
  for (const t of sd.values()) paramCount += t.shape.reduce((a, b) => a * b, 1);
  return {
    channels,
    imageChannels,
    outChannels,
    learnSigma,
    numResBlocks,
    channelMult,
    attentionDs,
    useScaleShiftNorm,
    classCond: sd.has('label_emb.weight'),
    paramCount,
  };
}
