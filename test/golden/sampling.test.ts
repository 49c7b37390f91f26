import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pSample, pSampleLoop } from '../../src-main/engine/diffusion/ancestral';
import { ddimSample, ddimSampleLoop } from '../../src-main/engine/diffusion/ddim';
import type { Diffusion } from '../../src-main/engine/diffusion/diffusion';
import { reverseStep } from '../../src-main/engine/diffusion/reverse';
import { constantNoise, diffusionFor, fixedModel, processFor, respacedProcessFor } from './diffusionCase';
import { expectClose, expectNoLeak, expectNoLeakAsync, golden, nhwc, toNchwArray, useCpuBackend } from './goldenFile';

const TOL = { atol: 1e-5, rtol: 1e-5 };

function perSampleValues(x: tf.Tensor): number[] {
  const v = x.dataSync();
  const per = v.length / x.shape[0];
  return Array.from({ length: x.shape[0] }, (_, b) => v[b * per]);
}

describe('golden: sampling', () => {
  beforeAll(useCpuBackend);
  const g = golden();
  const s = g.sampling;
  let x: tf.Tensor4D;
  let noise: ReturnType<typeof constantNoise>;
  beforeAll(() => {
    x = nhwc(g.inputs.x_sample_in);
    noise = constantNoise(g.inputs.sample_noise);
  });
  afterAll(() => {
    x.dispose();
    noise.dispose();
  });

  /** Checks one single-step case (p_sample_clip_*, ddim_sample_eta_*) of a diffusion. */
  function checkStep(d: Diffusion, channels: number, t: number[], key: string, expected: any, seenExpected: number[]) {
    const fixed = fixedModel(g.inputs.model_output_6ch, channels);
    try {
      expectNoLeak(() =>
        tf.tidy(() => {
          if (key.startsWith('p_sample')) {
            const clip = key.endsWith('True');
            const out = pSample(d, fixed.model, x, t, noise.source, clip);
            expectClose(toNchwArray(out.sample), expected.sample.data, { ...TOL, label: `${key}.sample` });
            expectClose(toNchwArray(out.predXstart), expected.pred_xstart.data, { ...TOL, label: `${key}.pred_xstart` });
            const p = reverseStep(d, fixed.model, x, t, { clipDenoised: clip });
            if (expected.mean) expectClose(toNchwArray(p.mean), expected.mean.data, { ...TOL, label: `${key}.mean` });
            if (expected.log_variance) {
              expectClose(toNchwArray(p.logVariance), expected.log_variance.data, { ...TOL, label: `${key}.log_variance` });
            }
            if (expected.variance_per_sample) {
              expectClose(perSampleValues(p.variance), expected.variance_per_sample, { ...TOL, label: `${key}.variance` });
              expectClose(perSampleValues(p.logVariance), expected.log_variance_per_sample, { ...TOL, label: `${key}.log_variance` });
            }
          } else {
            const eta = Number(key.slice('ddim_sample_eta_'.length));
            const out = ddimSample(d, fixed.model, x, t, noise.source, eta);
            expectClose(toNchwArray(out.sample), expected.sample.data, { ...TOL, label: `${key}.sample` });
            expectClose(toNchwArray(out.predXstart), expected.pred_xstart.data, { ...TOL, label: `${key}.pred_xstart` });
          }
        }),
      );
      expect(fixed.seen[0]).toEqual(seenExpected);
    } finally {
      fixed.dispose();
    }
  }

  const stepKeys = (c: object) => Object.keys(c).filter((k) => k.startsWith('p_sample_') || k.startsWith('ddim_sample_eta'));

  for (const [name, c] of Object.entries<any>(s).filter(([, v]) => typeof v === 'object' && v.schedule)) {
    for (const varType of Object.keys(c).filter((k) => /^[A-Z_]+$/.test(k))) {
      for (const key of stepKeys(c[varType])) {
        it(`${name} ${varType} ${key}`, () => {
          const d = diffusionFor(processFor(name), varType);
          const channels = varType.startsWith('LEARNED') ? 6 : 3;
          checkStep(d, channels, c.t, key, c[varType][key], c[varType].model_timesteps_seen);
        });
      }
    }
  }

  for (const [name, c] of Object.entries<any>(s).filter(([k, v]) => k.startsWith('respaced_') && v.base)) {
    for (const key of stepKeys(c)) {
      it(`${name} (respaced '${c.respacing}', learned range) ${key}: the network sees the original steps`, () => {
        const d = diffusionFor(respacedProcessFor(c.base, c.respacing), 'LEARNED_RANGE');
        checkStep(d, 6, c.t, key, c[key], c.model_timesteps_seen);
      });
    }
  }

  for (const [name, c] of Object.entries<any>(s).filter(([k, v]) => k.startsWith('loops_') && v.base)) {
    for (const key of Object.keys(c).filter((k) => k.endsWith('loop') || k.includes('loop_eta'))) {
      it(`${name} ${key}: a ${c.timestep_map.length}-step loop from a given x_T`, async () => {
        const d = diffusionFor(respacedProcessFor(c.base, c.respacing), 'LEARNED_RANGE');
        expect(d.process.timestepMap).toEqual(c.timestep_map);
        const fixed = fixedModel(g.inputs.model_output_6ch, 6);
        const callsBefore = noise.calls();
        const progress: number[] = [];
        try {
          const opts = {
            shape: x.shape as [number, number, number, number],
            noiseSource: noise.source,
            initial: x,
            onProgress: (done: number) => progress.push(done),
          };
          const out = await expectNoLeakAsync(() =>
            key.startsWith('ddim')
              ? ddimSampleLoop(d, fixed.model, { ...opts, eta: Number(key.split('_eta_')[1]) })
              : pSampleLoop(d, fixed.model, opts),
          );
          expectClose(toNchwArray(out), c[key].sample.data, { ...TOL, label: `${key}.sample` });
          out.dispose();
          expect(noise.calls() - callsBefore).toBe(c[key].randn_calls);
          expect(fixed.seen).toEqual(c[key].model_timesteps_seen);
          expect(progress).toEqual(Array.from({ length: c.timestep_map.length }, (_, i) => i + 1));
        } finally {
          fixed.dispose();
        }
      });
    }
  }
});

describe('sampling loops: cancellation', () => {
  beforeAll(useCpuBackend);
  it('an aborted loop stops between steps and leaks nothing', async () => {
    const g = golden();
    const before = tf.memory().numTensors;
    const d = diffusionFor(respacedProcessFor('cosine_1000', '10'), 'LEARNED_RANGE');
    const fixed = fixedModel(g.inputs.model_output_6ch, 6);
    const noise = constantNoise(g.inputs.sample_noise);
    const controller = new AbortController();
    let steps = 0;
    await expect(
      pSampleLoop(d, fixed.model, {
        shape: [4, 8, 8, 3],
        noiseSource: noise.source,
        signal: controller.signal,
        onProgress: (done) => {
          steps = done;
          if (done === 3) controller.abort();
        },
      }),
    ).rejects.toThrow(/cancelled/);
    expect(steps).toBe(3);
    fixed.dispose();
    noise.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
