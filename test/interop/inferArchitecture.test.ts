/**
 * Architecture inference from tensor shapes, over UNets the engine's layout builds (which the golden tests
 * tie to the reference's named_parameters), and the reference flag-string parser.
 */
import { describe, expect, it } from 'vitest';
import { parseReferenceFlagString } from '../../src-shared/config/referenceFlagString';
import { buildLayout } from '../../src-main/engine/unet/layout';
import { unetSpecFromReferenceKwargs } from '../../src-main/engine/unet/spec';
import { inferArchitecture } from '../../src-main/interop/inferArchitecture';

function shapes(kwargs: Parameters<typeof unetSpecFromReferenceKwargs>[0]) {
  const layout = buildLayout(unetSpecFromReferenceKwargs(kwargs));
  return { sd: new Map(layout.params.map((p) => [p.name, { shape: p.refShape }])), count: layout.paramCount };
}

describe('inferArchitecture', () => {
  const cases = [
    { name: 'CIFAR-10 paper model', k: { in_channels: 3, model_channels: 128, out_channels: 6, num_res_blocks: 3, attention_resolutions: [2, 4], channel_mult: [1, 2, 2, 2], num_heads: 4, use_scale_shift_norm: true } },
    { name: 'ImageNet-64 widths, fixed Σ, no scale-shift', k: { in_channels: 3, model_channels: 64, out_channels: 3, num_res_blocks: 2, attention_resolutions: [4, 8], channel_mult: [1, 2, 3, 4], num_heads: 4, use_scale_shift_norm: false } },
    { name: 'one level, attention at full resolution', k: { in_channels: 3, model_channels: 32, out_channels: 6, num_res_blocks: 1, attention_resolutions: [1], channel_mult: [1], num_heads: 2, use_scale_shift_norm: true } },
    { name: 'no attention on any level', k: { in_channels: 3, model_channels: 32, out_channels: 6, num_res_blocks: 2, attention_resolutions: [], channel_mult: [1, 2], num_heads: 1, use_scale_shift_norm: true } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { sd, count } = shapes(c.k);
      const a = inferArchitecture(sd, 'x.pt');
      expect(a).toEqual({
        channels: c.k.model_channels,
        imageChannels: 3,
        outChannels: c.k.out_channels,
        learnSigma: c.k.out_channels === 6,
        numResBlocks: c.k.num_res_blocks,
        channelMult: c.k.channel_mult,
        attentionDs: [...c.k.attention_resolutions].sort((x, y) => x - y),
        useScaleShiftNorm: c.k.use_scale_shift_norm,
        classCond: false,
        paramCount: count,
      });
    });
  }

  it('names the missing tensor of something that is not a reference UNet', () => {
    expect(() => inferArchitecture(new Map([['fc.weight', { shape: [10, 4] }]]), 'resnet.pt')).toThrow(/resnet\.pt is not a state dict of the reference UNet: it has no time_embed\.0\.weight/);
  });
});

describe('parseReferenceFlagString', () => {
  it('reads --flag value, --flag=value and the README\'s FLAGS="…" lines', () => {
    expect(parseReferenceFlagString('--num_heads 4 --learn_sigma=True --num_heads_upsample -1')).toEqual({ num_heads: '4', learn_sigma: 'True', num_heads_upsample: '-1' });
    expect(
      parseReferenceFlagString('MODEL_FLAGS="--image_size 64 --num_channels 128" DIFFUSION_FLAGS="--diffusion_steps 4000 --noise_schedule cosine"'),
    ).toEqual({ image_size: '64', num_channels: '128', diffusion_steps: '4000', noise_schedule: 'cosine' });
    expect(parseReferenceFlagString('mpiexec -n 8 python scripts/image_train.py --data_dir /data $MODEL_FLAGS --lr 1e-4')).toEqual({ data_dir: '/data', lr: '1e-4' });
  });

  it('names a flag without a value and a stray word', () => {
    expect(() => parseReferenceFlagString('--num_heads')).toThrow(/--num_heads has no value/);
    expect(() => parseReferenceFlagString('--num_heads 4 heads')).toThrow(/expected --name value, got 'heads'/);
  });
});
