/**
 * The UNet's structure and its parameters, in the reference's module order and names, so that
 * `named_parameters()` of a reference model and this list match one to one (SPEC §7).
 */
import type { UNetSpec } from './spec';

/** How a parameter is stored in the reference and how the engine stores it. */
export type ParamKind =
  | 'conv2d' // reference OIHW; engine HWIO
  | 'conv1x1d' // reference conv1d [O, I, 1]; engine dense [I, O]
  | 'linear' // reference [O, I]; engine [I, O]
  | 'vector' // biases and GroupNorm affine parameters: same
  | 'embedding'; // [N, D]: same

export interface ParamInfo {
  name: string;
  kind: ParamKind;
  /** Shape in the reference (PyTorch) layout. */
  refShape: number[];
  /**
   * Initial values as PyTorch makes them: U(−1/√fan_in, 1/√fan_in) for conv/linear weights and biases
   * (kaiming_uniform with a = √5), N(0,1) for embeddings, 1 and 0 for GroupNorm, and zero for the
   * reference's zero_module layers (output convs of ResBlocks, attention projections, the head).
   */
  init: { uniform: number } | 'zeros' | 'ones' | 'normal';
}

export interface ResBlockLayout {
  type: 'res';
  prefix: string;
  inCh: number;
  outCh: number;
}
export interface AttnBlockLayout {
  type: 'attn';
  prefix: string;
  ch: number;
  heads: number;
}
export interface DownLayout {
  type: 'down';
  prefix: string;
  ch: number;
}
export interface UpLayout {
  type: 'up';
  prefix: string;
  ch: number;
}
export interface ConvInLayout {
  type: 'convIn';
  prefix: string;
  inCh: number;
  outCh: number;
}
export type LayerLayout = ResBlockLayout | AttnBlockLayout | DownLayout | UpLayout | ConvInLayout;

/** A TimestepEmbedSequential: layers applied in order. */
export interface BlockLayout {
  name: string;
  layers: LayerLayout[];
}

export interface UNetLayout {
  spec: UNetSpec;
  timeEmbedDim: number;
  inputBlocks: BlockLayout[];
  middleBlock: BlockLayout;
  outputBlocks: BlockLayout[];
  params: ParamInfo[];
  paramCount: number;
}

const GROUPS = 32;

export function buildLayout(spec: UNetSpec): UNetLayout {
  checkSpec(spec);
  const C = spec.modelChannels;
  const emb = 4 * C;
  const params: ParamInfo[] = [];
  const weightAndBias = (name: string, kind: ParamKind, refShape: number[], fanIn: number, zero: boolean) => {
    const init = zero ? 'zeros' : { uniform: 1 / Math.sqrt(fanIn) };
    params.push({ name: `${name}.weight`, kind, refShape, init });
    params.push({ name: `${name}.bias`, kind: 'vector', refShape: [refShape[0]], init });
  };
  const linear = (name: string, inDim: number, outDim: number, zero = false) =>
    weightAndBias(name, 'linear', [outDim, inDim], inDim, zero);
  const conv = (name: string, inCh: number, outCh: number, k: number, zero = false) =>
    weightAndBias(name, 'conv2d', [outCh, inCh, k, k], inCh * k * k, zero);
  const conv1x1d = (name: string, inCh: number, outCh: number, zero = false) =>
    weightAndBias(name, 'conv1x1d', [outCh, inCh, 1], inCh, zero);
  const norm = (name: string, ch: number) => {
    params.push({ name: `${name}.weight`, kind: 'vector', refShape: [ch], init: 'ones' });
    params.push({ name: `${name}.bias`, kind: 'vector', refShape: [ch], init: 'zeros' });
  };
  const res = (prefix: string, inCh: number, outCh: number): ResBlockLayout => {
    norm(`${prefix}.in_layers.0`, inCh);
    conv(`${prefix}.in_layers.2`, inCh, outCh, 3);
    linear(`${prefix}.emb_layers.1`, emb, spec.useScaleShiftNorm ? 2 * outCh : outCh);
    norm(`${prefix}.out_layers.0`, outCh);
    conv(`${prefix}.out_layers.3`, outCh, outCh, 3, true);
    if (inCh !== outCh) conv(`${prefix}.skip_connection`, inCh, outCh, 1);
    return { type: 'res', prefix, inCh, outCh };
  };
  const attn = (prefix: string, ch: number, heads: number): AttnBlockLayout => {
    norm(`${prefix}.norm`, ch);
    conv1x1d(`${prefix}.qkv`, ch, 3 * ch);
    conv1x1d(`${prefix}.proj_out`, ch, ch, true);
    return { type: 'attn', prefix, ch, heads };
  };

  linear('time_embed.0', C, emb);
  linear('time_embed.2', emb, emb);
  if (spec.numClasses) params.push({ name: 'label_emb.weight', kind: 'embedding', refShape: [spec.numClasses, emb], init: 'normal' });

  const inputBlocks: BlockLayout[] = [];
  conv('input_blocks.0.0', spec.inChannels, C, 3);
  inputBlocks.push({ name: 'input_blocks.0', layers: [{ type: 'convIn', prefix: 'input_blocks.0.0', inCh: spec.inChannels, outCh: C }] });
  const skipChannels = [C];
  let ch = C;
  let ds = 1;
  spec.channelMult.forEach((mult, level) => {
    for (let r = 0; r < spec.numResBlocks; r++) {
      const name = `input_blocks.${inputBlocks.length}`;
      const layers: LayerLayout[] = [res(`${name}.0`, ch, mult * C)];
      ch = mult * C;
      if (spec.attentionDs.includes(ds)) layers.push(attn(`${name}.1`, ch, spec.numHeads));
      inputBlocks.push({ name, layers });
      skipChannels.push(ch);
    }
    if (level !== spec.channelMult.length - 1) {
      const name = `input_blocks.${inputBlocks.length}`;
      conv(`${name}.0.op`, ch, ch, 3);
      inputBlocks.push({ name, layers: [{ type: 'down', prefix: `${name}.0`, ch }] });
      skipChannels.push(ch);
      ds *= 2;
    }
  });

  const middleBlock: BlockLayout = {
    name: 'middle_block',
    layers: [res('middle_block.0', ch, ch), attn('middle_block.1', ch, spec.numHeads), res('middle_block.2', ch, ch)],
  };

  const upHeads = spec.numHeadsUpsample === -1 ? spec.numHeads : spec.numHeadsUpsample;
  const outputBlocks: BlockLayout[] = [];
  for (let level = spec.channelMult.length - 1; level >= 0; level--) {
    const mult = spec.channelMult[level];
    for (let i = 0; i <= spec.numResBlocks; i++) {
      const name = `output_blocks.${outputBlocks.length}`;
      const skip = skipChannels.pop()!;
      const layers: LayerLayout[] = [res(`${name}.0`, ch + skip, C * mult)];
      ch = C * mult;
      if (spec.attentionDs.includes(ds)) layers.push(attn(`${name}.${layers.length}`, ch, upHeads));
      if (level > 0 && i === spec.numResBlocks) {
        const prefix = `${name}.${layers.length}`;
        conv(`${prefix}.conv`, ch, ch, 3);
        layers.push({ type: 'up', prefix, ch });
        ds /= 2;
      }
      outputBlocks.push({ name, layers });
    }
  }
  norm('out.0', ch);
  conv('out.2', C, spec.outChannels, 3, true);

  const paramCount = params.reduce((n, p) => n + p.refShape.reduce((a, b) => a * b, 1), 0);
  return { spec, timeEmbedDim: emb, inputBlocks, middleBlock, outputBlocks, params, paramCount };
}

function checkSpec(spec: UNetSpec): void {
  const problems: string[] = [];
  const upHeads = spec.numHeadsUpsample === -1 ? spec.numHeads : spec.numHeadsUpsample;
  spec.channelMult.forEach((mult, level) => {
    const w = mult * spec.modelChannels;
    const isLast = level === spec.channelMult.length - 1; // the middle block always has attention
    if (spec.attentionDs.includes(2 ** level) && (w % spec.numHeads !== 0 || w % upHeads !== 0)) {
      problems.push(`${w} channels at level ${level} are not divisible into ${spec.numHeads} / ${upHeads} attention heads`);
    } else if (isLast && w % spec.numHeads !== 0) {
      problems.push(`${w} channels of the middle block are not divisible into ${spec.numHeads} attention heads`);
    }
  });
  if (!(spec.inChannels >= 1 && spec.outChannels >= 1)) problems.push('input and output channels must be ≥ 1');
  const widths = [spec.modelChannels, ...spec.channelMult.map((m) => m * spec.modelChannels)];
  for (const w of widths) {
    if (w % GROUPS !== 0) problems.push(`${w} channels are not divisible by the ${GROUPS} GroupNorm groups`);
  }
  if (spec.channelMult.length < 1) problems.push('channelMult needs at least one level');
  if (problems.length) throw new Error(`invalid UNet: ${[...new Set(problems)].join('; ')}`);
}
