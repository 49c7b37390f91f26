/**
 * The full variational bound in bits/dim (SPEC §4, `calc_bpd_loop`): every term from t = T−1 down to 0
 * with fresh noise, plus the prior. The per-t vector is the paper's Figure 2.
 */
import * as tf from '@tensorflow/tfjs';
import { tidy } from '../tensorScope';
import type { NoiseSource } from '../rng';
import type { DenoiseModel, Diffusion } from './diffusion';
import { predictEpsFromXstart, qSample } from './forward';
import { meanFlat } from './gaussian';
import { priorBpd, vbTerms } from './losses';
import { checkpointLoop, type LoopControl } from './loopControl';
import { guardGpuRead } from '../backend/webgpu';

export interface BpdResult {
  /** Σ_t vb_t + prior, per sample. */
  totalBpd: Float32Array;
  priorBpd: Float32Array;
  /** vb[b][t] in bits/dim, indexed by t (not by loop order). */
  vb: Float32Array[];
  /** mean_flat((x̂₀ − x₀)²) per sample and t. */
  xstartMse: Float32Array[];
  /** mean_flat((ε̂ − ε)²) per sample and t. */
  mse: Float32Array[];
  /** The steps evaluated, ascending. */
  timesteps: number[];
}

export interface BpdOptions extends LoopControl {
  noiseSource: NoiseSource;
  clipDenoised?: boolean;
  /**
   * Evaluate only these steps (ascending or not); the total then sums just them, so it is a bound
   * only when all T steps are included. Default: all steps.
   */
  timesteps?: readonly number[];
}

export async function calcBpdLoop(
  d: Diffusion,
  model: DenoiseModel,
  xStart: tf.Tensor4D,
  opts: BpdOptions,
): Promise<BpdResult> {
  const batch = xStart.shape[0];
  const T = d.process.numSteps;
  const steps = [...(opts.timesteps ?? Array.from({ length: T }, (_, i) => i))].sort((a, b) => a - b);
  const clip = opts.clipDenoised ?? true;
  const vb = Array.from({ length: batch }, () => new Float32Array(steps.length));
  const xstartMse = Array.from({ length: batch }, () => new Float32Array(steps.length));
  const mse = Array.from({ length: batch }, () => new Float32Array(steps.length));

  for (let j = steps.length - 1; j >= 0; j--) {
    const s = steps[j];
    const t = new Array<number>(batch).fill(s);
    const [vbT, xsT, mseT] = tidy(() => {
      const noise = opts.noiseSource(xStart.shape) as tf.Tensor4D;
      const xT = qSample(d, xStart, t, noise);
      const out = vbTerms(d, model, xStart, xT, t, clip);
      const eps = predictEpsFromXstart(d, xT, t, out.predXstart);
      return [out.output, meanFlat(tf.squaredDifference(out.predXstart, xStart)), meanFlat(tf.squaredDifference(eps, noise))];
    });
    // Asynchronous reads: the webgpu backend cannot read synchronously in Node.
    const values = await guardGpuRead(Promise.all([vbT, xsT, mseT].map((x) => x.data() as Promise<Float32Array>))).finally(() =>
      tf.dispose([vbT, xsT, mseT]),
    );
    for (let b = 0; b < batch; b++) {
      vb[b][j] = values[0][b];
      xstartMse[b][j] = values[1][b];
      mse[b][j] = values[2][b];
    }
    opts.onProgress?.(steps.length - j, steps.length);
    if (j > 0) await checkpointLoop(opts, 'NLL evaluation');
  }

  const prior = tidy(() => priorBpd(d, xStart));
  const priorValues = Float32Array.from((await guardGpuRead(prior.data()).finally(() => prior.dispose())) as Float32Array);
  const totalBpd = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    // Summed in float32 like the reference's tensor sum.
    let sum = 0;
    for (let j = 0; j < steps.length; j++) sum = Math.fround(sum + vb[b][j]);
    totalBpd[b] = Math.fround(sum + priorValues[b]);
  }
  return { totalBpd, priorBpd: priorValues, vb, xstartMse, mse, timesteps: steps };
}
