import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  approxStandardNormalCdf,
  discretizedGaussianLogLikelihood,
  normalKl,
} from '../../src-main/engine/diffusion/gaussian';
import { timestepEmbedding } from '../../src-main/engine/unet/timestepEmbedding';
import { expectClose, expectNoLeak, golden, useCpuBackend } from './goldenFile';

/** Runs a tensor function on float32 inputs and reads the result. */
function run(fn: () => tf.Tensor): Float32Array {
  const out = expectNoLeak(fn);
  const values = Float32Array.from(out.dataSync());
  out.dispose();
  return values;
}

const f32 = (xs: number[]) => tf.tensor1d(xs, 'float32');

describe('golden: loss functions (float32 against the float64 reference)', () => {
  beforeAll(useCpuBackend);
  const g = golden().loss_functions;

  it('normal_kl', () => {
    const k = g.normal_kl;
    const out = run(() => tf.tidy(() => normalKl(f32(k.mean1), f32(k.logvar1), f32(k.mean2), f32(k.logvar2))));
    expectClose(out, k.out, { atol: 1e-6, rtol: 1e-5, label: 'normal_kl' });
  });

  it('normal_kl against N(0, 1) given as plain numbers (the prior term)', () => {
    const k = g.normal_kl;
    const out = run(() => tf.tidy(() => normalKl(f32(k.mean1), f32(k.logvar1), 0, 0)));
    expectClose(out, g.normal_kl_vs_standard.out, { atol: 1e-6, rtol: 1e-5, label: 'normal_kl_vs_standard' });
  });

  it('approx_standard_normal_cdf is the tanh approximation, not erf', () => {
    const c = g.approx_standard_normal_cdf;
    const out = run(() => tf.tidy(() => approxStandardNormalCdf(f32(c.x))));
    // float32 resolution near 1 is ~6e-8: absolute tolerance for the tails.
    expectClose(out, c.out, { atol: 2e-7, rtol: 1e-5, label: 'cdf' });
  });

  it("approx_standard_normal_cdf cubes as PyTorch's CPU pow(x, 3) does, (x·x)·x, with no (slow) Pow kernel", async () => {
    // PyTorch computes pow(x, 3) on the CPU as (x·x)·x (bit for bit, checked with torch 1.13): the same values as the
    // formula written with that cube, on a dense run of inputs.
    const xs = Float32Array.from({ length: 64 }, (_, k) => 1.1 + k * 2 ** -20);
    const info = await tf.profile(() => tf.tidy(() => approxStandardNormalCdf(tf.tensor1d(xs))));
    expect(info.kernels.map((k) => k.name)).not.toContain('Pow');
    const ours = run(() => tf.tidy(() => approxStandardNormalCdf(tf.tensor1d(xs))));
    const viaMul = run(() => tf.tidy(() => {
      const x = tf.tensor1d(xs);
      return tf.mul(tf.add(tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(tf.mul(x, x), x))))), 1), 0.5);
    }));
    expect(Array.from(ours)).toEqual(Array.from(viaMul));
  });

  it('discretized_gaussian_log_likelihood, including the edge bins', () => {
    const d = g.discretized_gaussian_log_likelihood;
    const out = run(() => tf.tidy(() => discretizedGaussianLogLikelihood(f32(d.x), f32(d.means), f32(d.log_scales))));
    expectClose(out, d.out_float32, { atol: 1e-5, rtol: 1e-5, label: 'against float32 reference' });
    expectClose(out, d.out_float64, { atol: 1e-4, rtol: 1e-4, label: 'against float64 reference' });
  });
});

describe('golden: timestep embedding', () => {
  beforeAll(useCpuBackend);
  const g = golden().timestep_embedding;
  for (const key of Object.keys(g).filter((k) => k.startsWith('dim_'))) {
    it(`${key}: cos first, zero column for odd sizes`, () => {
      const dim = Number(key.slice(4));
      const expected = g[key];
      const out = run(() => tf.tidy(() => timestepEmbedding(f32(g.timesteps), dim, g.max_period)));
      expectClose(out, expected.data, { atol: 1e-6, rtol: 0, label: key });
    });
  }
});
