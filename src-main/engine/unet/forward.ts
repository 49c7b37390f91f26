/**
 * The UNet forward pass (SPEC §7), NHWC, on a weight map. Pure function of (weights, x, t): the same code
 * runs the trained weights, an EMA copy, or reference weights loaded from a checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import { attentionCore, conv2d, dense, groupNorm, groupNormScaleShiftSilu, groupNormSilu, silu, upsampleNearest2x, concatChannels } from '../ops';
import type { AttnBlockLayout, BlockLayout, LayerLayout, ResBlockLayout, UNetLayout } from './layout';
import { timestepEmbedding } from './timestepEmbedding';
import type { WeightMap } from './weights';

export interface ForwardOptions {
  /** Dropout is active only when given (training); its mask comes from this generator. */
  dropoutRng?: Rng;
  /** Class labels for class-conditional models. */
  labels?: tf.Tensor1D;
  /** Called with each block's output (for inspection and tests); the tensor is freed after the call. */
  onBlock?: (name: string, value: tf.Tensor) => void;
}

const SAME_PAD_1: [[number, number], [number, number]] = [[1, 1], [1, 1]];

export function unetForward(
  layout: UNetLayout,
  weights: WeightMap,
  x: tf.Tensor4D,
  times: tf.Tensor1D,
  options: ForwardOptions = {},
): tf.Tensor4D {
  const w = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`UNet weight ${name} is missing`);
    return t;
  };
  const ctx: Ctx = { layout, w, options };
  return tf.tidy(() => {
    const spec = layout.spec;
    if (x.shape[3] !== spec.inChannels) {
      throw new Error(`the UNet takes ${spec.inChannels} channels, got an input with ${x.shape[3]}`);
    }
    const levels = spec.channelMult.length;
    if (x.shape[1] % 2 ** (levels - 1) !== 0 || x.shape[2] % 2 ** (levels - 1) !== 0) {
      throw new Error(`image size ${x.shape[1]}×${x.shape[2]} is not divisible by ${2 ** (levels - 1)} (${levels} levels)`);
    }
    let emb = timeEmbed(ctx, times);
    if (spec.numClasses) {
      if (!options.labels) throw new Error('this class-conditional UNet needs labels');
      emb = tf.add(emb, tf.gather(w('label_emb.weight'), options.labels.toInt()));
    }
    options.onBlock?.('time_embed', emb);

    // Every activation is freed as soon as nothing later reads it (each layer runs in its own scope, and block
    // outputs go once consumed), so the peak is the live skip connections plus one layer's work, as in PyTorch,
    // instead of every activation of the pass until the outer tidy ends. Under a gradient tape the tape keeps its
    // own references to what the backward pass needs, so this frees only what it does not.
    const skips: tf.Tensor4D[] = [];
    let h: tf.Tensor4D = x;
    for (const block of layout.inputBlocks) {
      h = runBlock(ctx, block, h, emb);
      skips.push(h);
    }
    h = runBlock(ctx, layout.middleBlock, h, emb);
    for (const block of layout.outputBlocks) {
      const skip = skips.pop()!;
      const joined = concatChannels(h, skip);
      h.dispose();
      skip.dispose();
      h = runBlock(ctx, block, joined, emb, true);
    }
    const out = conv2d(groupNormSilu(h, w('out.0.weight') as tf.Tensor1D, w('out.0.bias') as tf.Tensor1D), w('out.2.weight') as tf.Tensor4D, w('out.2.bias') as tf.Tensor1D, 1, SAME_PAD_1);
    return out;
  });
}

interface Ctx {
  layout: UNetLayout;
  w: (name: string) => tf.Tensor;
  options: ForwardOptions;
}

function timeEmbed(ctx: Ctx, times: tf.Tensor1D): tf.Tensor2D {
  const { w } = ctx;
  const base = timestepEmbedding(times, ctx.layout.spec.modelChannels);
  const hidden = silu(dense(base, w('time_embed.0.weight') as tf.Tensor2D, w('time_embed.0.bias') as tf.Tensor1D)) as tf.Tensor2D;
  return dense(hidden, w('time_embed.2.weight') as tf.Tensor2D, w('time_embed.2.bias') as tf.Tensor1D);
}

/**
 * The block's layers, each in its own scope; frees what it made in between (never `input`: a skip connection or
 * the caller's x), and `input` itself only when `ownsInput` (a decoder block's concatenation).
 */
function runBlock(ctx: Ctx, block: BlockLayout, input: tf.Tensor4D, emb: tf.Tensor2D, ownsInput = false): tf.Tensor4D {
  let h = input;
  for (const layer of block.layers) {
    const next = tf.tidy(() => runLayer(ctx, layer, h, emb));
    if (h !== input || ownsInput) h.dispose();
    h = next;
  }
  ctx.options.onBlock?.(block.name, h);
  return h;
}

function runLayer(ctx: Ctx, layer: LayerLayout, h: tf.Tensor4D, emb: tf.Tensor2D): tf.Tensor4D {
  const { w } = ctx;
  switch (layer.type) {
    case 'convIn':
      return conv2d(h, w(`${layer.prefix}.weight`) as tf.Tensor4D, w(`${layer.prefix}.bias`) as tf.Tensor1D, 1, SAME_PAD_1);
    case 'res':
      return resBlock(ctx, layer, h, emb);
    case 'attn':
      return attentionBlock(ctx, layer, h);
    case 'down':
      // Stride 2 with one pixel of padding on every side, as the reference (not TF's 'same').
      return conv2d(h, w(`${layer.prefix}.op.weight`) as tf.Tensor4D, w(`${layer.prefix}.op.bias`) as tf.Tensor1D, 2, SAME_PAD_1);
    case 'up':
      return conv2d(upsampleNearest2x(h), w(`${layer.prefix}.conv.weight`) as tf.Tensor4D, w(`${layer.prefix}.conv.bias`) as tf.Tensor1D, 1, SAME_PAD_1);
  }
}

function resBlock(ctx: Ctx, layer: ResBlockLayout, x: tf.Tensor4D, emb: tf.Tensor2D): tf.Tensor4D {
  const { w } = ctx;
  const p = layer.prefix;
  const vec = (name: string) => w(name) as tf.Tensor1D;
  let h = conv2d(
    groupNormSilu(x, vec(`${p}.in_layers.0.weight`), vec(`${p}.in_layers.0.bias`)),
    w(`${p}.in_layers.2.weight`) as tf.Tensor4D,
    vec(`${p}.in_layers.2.bias`),
    1,
    SAME_PAD_1,
  );
  const e = dense(silu(emb) as tf.Tensor2D, w(`${p}.emb_layers.1.weight`) as tf.Tensor2D, vec(`${p}.emb_layers.1.bias`));
  const b = e.shape[0];
  if (ctx.layout.spec.useScaleShiftNorm) {
    // GN(h)·(1+scale)+shift, scale first (SPEC §7), then SiLU.
    const [scale, shift] = tf.split(e, 2, 1) as tf.Tensor2D[];
    h = groupNormScaleShiftSilu(h, vec(`${p}.out_layers.0.weight`), vec(`${p}.out_layers.0.bias`), scale, shift);
  } else {
    h = tf.add(h, tf.reshape(e, [b, 1, 1, layer.outCh]));
    h = groupNormSilu(h, vec(`${p}.out_layers.0.weight`), vec(`${p}.out_layers.0.bias`));
  }
  h = dropout(ctx, h);
  const skip =
    layer.inCh === layer.outCh
      ? x
      : conv2d(x, w(`${p}.skip_connection.weight`) as tf.Tensor4D, vec(`${p}.skip_connection.bias`), 1, 'valid');
  // skip + conv(h): the conv adds the skip connection in its own pass.
  return conv2d(h, w(`${p}.out_layers.3.weight`) as tf.Tensor4D, vec(`${p}.out_layers.3.bias`), 1, SAME_PAD_1, skip);
}

function attentionBlock(ctx: Ctx, layer: AttnBlockLayout, x: tf.Tensor4D): tf.Tensor4D {
  const { w } = ctx;
  const p = layer.prefix;
  // NHWC throughout: dense and attentionCore take the H·W positions as rows (no reshapes, which each cost three
  // kernels and two tape nodes in training).
  const normed = groupNorm(x, w(`${p}.norm.weight`) as tf.Tensor1D, w(`${p}.norm.bias`) as tf.Tensor1D);
  const qkv = dense(normed, w(`${p}.qkv.weight`) as tf.Tensor2D, w(`${p}.qkv.bias`) as tf.Tensor1D);
  const attended = attentionCore(qkv, layer.heads);
  // x + proj_out(attended): the product accumulates onto x (no separate Add pass).
  return dense(attended, w(`${p}.proj_out.weight`) as tf.Tensor2D, w(`${p}.proj_out.bias`) as tf.Tensor1D, x);
}

/** Inverted dropout with a mask from the run's generator (same mask on every backend). */
function dropout(ctx: Ctx, h: tf.Tensor4D): tf.Tensor4D {
  const rate = ctx.layout.spec.dropout;
  const rng = ctx.options.dropoutRng;
  if (!rng || rate <= 0) return h;
  const keep = 1 - rate;
  const mask = new Float32Array(h.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < keep ? 1 / keep : 0;
  return tf.mul(h, tf.tensor4d(mask, h.shape));
}
