import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { calcBpdLoop } from '../../src-main/engine/diffusion/nll';
import { createNoiseProcess, type ScheduleName } from '../../src-shared/diffusion';
import { constantNoise, diffusionFor, fixedModel } from './diffusionCase';
import { expectClose, expectNoLeakAsync, golden, nhwc, useCpuBackend } from './goldenFile';

describe('golden: calc_bpd_loop', () => {
  beforeAll(useCpuBackend);
  const g = golden();
  const c = g.calc_bpd_loop;

  it(`${c.schedule} T=${c.T}: total bits/dim, prior and every per-t term`, async () => {
    const process = createNoiseProcess(c.schedule as ScheduleName, c.T);
    expectClose(process.betas, c.betas, { atol: 0, rtol: 1e-12, label: 'betas' });
    const d = diffusionFor(process, 'LEARNED_RANGE', 'RESCALED_MSE');
    const fixed = fixedModel(g.inputs.model_output_6ch, 6);
    const noise = constantNoise(g.inputs.noise);
    const xStart = nhwc(g.inputs.x_start);
    const progress: number[] = [];
    try {
      const result = await expectNoLeakAsync(() =>
        calcBpdLoop(d, fixed.model, xStart, {
          noiseSource: noise.source,
          clipDenoised: c.clip_denoised,
          onProgress: (done) => progress.push(done),
        }),
      );
      expect(result.timesteps).toEqual(Array.from({ length: c.T }, (_, i) => i));
      // Golden columns run t = T−1 … 0; ours are indexed by t.
      const byLoopOrder = (rows: Float32Array[]) => rows.flatMap((row) => Array.from(row).reverse());
      expectClose(byLoopOrder(result.vb), c.vb.data, { atol: 1e-5, rtol: 1e-4, label: 'vb' });
      expectClose(byLoopOrder(result.xstartMse), c.xstart_mse.data, { atol: 1e-5, rtol: 1e-4, label: 'xstart_mse' });
      expectClose(byLoopOrder(result.mse), c.mse.data, { atol: 1e-5, rtol: 1e-4, label: 'mse' });
      expectClose(result.priorBpd, c.prior_bpd, { atol: 1e-9, rtol: 1e-4, label: 'prior_bpd' });
      expectClose(result.totalBpd, c.total_bpd, { atol: 1e-5, rtol: 1e-5, label: 'total_bpd' });
      expect(fixed.seen.map((times) => times[0])).toEqual(
        Array.from({ length: c.T }, (_, j) => Math.fround((c.T - 1 - j) * (1000 / c.T))),
      );
      expect(progress.at(-1)).toBe(c.T);
      expect(noise.calls()).toBe(c.T);
    } finally {
      tf.dispose(xStart);
      fixed.dispose();
      noise.dispose();
    }
  });
});
