import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qMeanVariance, qPosterior, qSample } from '../../src-main/engine/diffusion/forward';
import { lossesFromOutput, priorBpd, trainingLosses, vbTerms, vbTermsFromOutput } from '../../src-main/engine/diffusion/losses';
import { meanFlat } from '../../src-main/engine/diffusion/gaussian';
import { selectBackend } from '../../src-main/engine/backend/selectBackend';
import { Rng } from '../../src-main/engine/rng';
import { reverseStep } from '../../src-main/engine/diffusion/reverse';
import { diffusionFor, fixedModel, processFor } from './diffusionCase';
import { expectClose, expectNoLeak, golden, nhwc, toNchwArray, useCpuBackend } from './goldenFile';

const TENSOR_TOL = { atol: 1e-5, rtol: 1e-5 };
/** Large loss terms (×T, up to ~3e5) are compared relatively. */
const LOSS_TOL = { atol: 1e-5, rtol: 1e-4 };

function values(x: tf.Tensor): number[] {
  return Array.from(x.dataSync());
}

/** Per-sample values of a [B,1,1,1] (or full) tensor: the first element of each sample. */
function perSampleValues(x: tf.Tensor): number[] {
  const v = x.dataSync();
  const per = v.length / x.shape[0];
  return Array.from({ length: x.shape[0] }, (_, b) => v[b * per]);
}

describe('golden: losses', () => {
  beforeAll(useCpuBackend);
  const g = golden();
  const inputs = g.inputs;
  let xStart: tf.Tensor4D;
  let noise: tf.Tensor4D;
  beforeAll(() => {
    xStart = nhwc(inputs.x_start);
    noise = nhwc(inputs.noise);
  });
  afterAll(() => tf.dispose([xStart, noise]));

  for (const [name, c] of Object.entries<any>(g.losses)) {
    describe(name, () => {
      const process = processFor(name);
      const t: number[] = c.t;

      it('q_sample, q_mean_variance, q_posterior and the prior term', () => {
        const d = diffusionFor(process, 'FIXED_LARGE');
        expectNoLeak(() => {
          tf.tidy(() => {
            const xT = qSample(d, xStart, t, noise);
            expectClose(toNchwArray(xT), c.q_sample.data, { ...TENSOR_TOL, label: 'q_sample' });
            const q = qMeanVariance(d, xStart, t);
            expectClose(toNchwArray(q.mean), c.q_mean_variance.mean.data, { ...TENSOR_TOL, label: 'q mean' });
            expectClose(perSampleValues(q.variance), c.q_mean_variance.variance_per_sample, { ...TENSOR_TOL, label: 'q var' });
            expectClose(perSampleValues(q.logVariance), c.q_mean_variance.log_variance_per_sample, { ...TENSOR_TOL, label: 'q logvar' });
            const post = qPosterior(d, xStart, xT, t);
            expectClose(toNchwArray(post.mean), c.q_posterior.mean.data, { ...TENSOR_TOL, label: 'posterior mean' });
            expectClose(perSampleValues(post.variance), c.q_posterior.variance_per_sample, { ...TENSOR_TOL, label: 'posterior var' });
            expectClose(perSampleValues(post.logVariance), c.q_posterior.log_variance_clipped_per_sample, {
              ...TENSOR_TOL,
              label: 'posterior logvar clipped',
            });
            expectClose(values(priorBpd(d, xStart)), c.prior_bpd, { atol: 1e-9, rtol: 1e-4, label: 'prior_bpd' });
          });
        });
      });

      for (const [lossName, l] of Object.entries<any>(c.training_losses)) {
        it(`training loss ${lossName} (${l.flags})`, () => {
          const d = diffusionFor(process, l.var_type, l.loss_type);
          const fixed = fixedModel(inputs.model_output_6ch, l.model_channels_out);
          try {
            const out = expectNoLeak(() => trainingLosses(d, fixed.model, xStart, t, noise));
            expectClose(values(out.loss), l.loss, { ...LOSS_TOL, label: `${lossName}.loss` });
            if (l.mse) expectClose(values(out.mse), l.mse, { ...LOSS_TOL, label: `${lossName}.mse` });
            if (l.vb) expectClose(values(out.vb!), l.vb, { ...LOSS_TOL, label: `${lossName}.vb` });
            if (!l.vb && !l.loss_type.includes('KL')) expect(out.vb).toBeUndefined();
            expect(fixed.seen).toEqual([l.model_timesteps_seen]);
            tf.dispose(Object.values(out));
          } finally {
            fixed.dispose();
          }
        });
      }

      for (const [lossName, grad] of Object.entries<any>(c.grad_sum_loss_wrt_model_output ?? {})) {
        it(`gradient of Σ loss wrt the model output for ${lossName} (stop-gradient on ε in L_hybrid)`, () => {
          const l = c.training_losses[lossName];
          const d = diffusionFor(process, l.var_type, l.loss_type);
          const output = nhwc(inputs.model_output_6ch);
          const xT = qSample(d, xStart, t, noise);
          const grads = expectNoLeak(() =>
            tf.grad((o: tf.Tensor) => lossesFromOutput(d, o as tf.Tensor4D, xStart, xT, t, noise).loss.sum())(output),
          );
          expectClose(toNchwArray(grads), grad.data, { atol: 1e-5, rtol: 1e-4, label: `grad ${lossName}` });
          tf.dispose([grads, output, xT]);
        });
      }

      for (const [clipKey, v] of Object.entries<any>(c.vb_terms_bpd_learned_range ?? {})) {
        it(`vb terms, learned range, ${clipKey}`, () => {
          const clip = clipKey.endsWith('True');
          const d = diffusionFor(process, 'LEARNED_RANGE', 'RESCALED_MSE');
          const fixed = fixedModel(inputs.model_output_6ch, 6);
          try {
            expectNoLeak(() =>
              tf.tidy(() => {
                const xT = qSample(d, xStart, t, noise);
                const out = vbTerms(d, fixed.model, xStart, xT, t, clip);
                expectClose(values(out.output), v.output, { ...LOSS_TOL, label: 'vb output' });
                expectClose(values(out.klBpd), v.kl_bpd, { ...LOSS_TOL, label: 'kl_bpd' });
                expectClose(values(out.decoderNllBpd), v.decoder_nll_bpd, { ...LOSS_TOL, label: 'decoder_nll_bpd' });
                if (v.p_mean_variance) {
                  const p = reverseStep(d, fixed.model, xT, t, { clipDenoised: clip });
                  expectClose(toNchwArray(p.mean), v.p_mean_variance.mean.data, { ...TENSOR_TOL, label: 'p mean' });
                  expectClose(toNchwArray(p.logVariance), v.p_mean_variance.log_variance.data, { ...TENSOR_TOL, label: 'p logvar' });
                  expectClose(toNchwArray(p.predXstart), v.p_mean_variance.pred_xstart.data, { ...TENSOR_TOL, label: 'pred_xstart' });
                }
              }),
            );
          } finally {
            fixed.dispose();
          }
        });
      }
    });
  }
});

/**
 * L_hybrid's vb term is formed from the mean channels (cut off from the gradient) and the variance channels as they
 * are, with only the terms some sample uses (lossesFromOutput). Against the joined form it replaced, the reference's
 * own composition: cat([detach(ε), v]) → vbTermsFromOutput (both terms for every sample, then the t = 0 pick):
 * the same bits of the loss and of its gradient with respect to the model output, with and without t = 0 samples.
 */
describe('L_hybrid without the joined output: the bits of the joined form', () => {
  afterAll(useCpuBackend);
  const zeroGradient = tf.customGrad(((x: tf.Tensor) => ({ value: x.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as unknown as Parameters<typeof tf.customGrad>[0]);
  const joined = (d: ReturnType<typeof diffusionFor>, o: tf.Tensor4D, xStart: tf.Tensor4D, xT: tf.Tensor4D, t: number[], noise: tf.Tensor4D) =>
    tf.tidy(() => {
      const [eps, v] = tf.split(o, 2, 3) as tf.Tensor4D[];
      const mse = meanFlat(tf.squaredDifference(noise, eps));
      const frozen = tf.concat([zeroGradient(eps) as tf.Tensor4D, v], 3) as tf.Tensor4D;
      const vb = tf.mul(vbTermsFromOutput(d, frozen, xStart, xT, t, false).output, d.process.numSteps / 1000);
      return tf.add(mse, vb) as tf.Tensor1D;
    });
  const bits = (x: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(x.dataSync() as Float32Array).buffer));

  for (const backend of ['wasm', 'cpu'] as const) {
    for (const t of [[5, 999, 300, 1], [0, 0, 0, 0], [0, 640, 0, 17]]) {
      it(`${backend}, t = ${t.join(', ')}`, async () => {
        await selectBackend(backend);
        const d = diffusionFor(processFor('cosine_1000'), 'LEARNED_RANGE', 'RESCALED_MSE');
        const rng = new Rng(9);
        // 8-bit pixel values, so both outermost bins (x = ±1) occur.
        const xStart = tf.tensor4d(Float32Array.from({ length: 4 * 64 * 3 }, () => rng.int(256) / 127.5 - 1), [4, 8, 8, 3]);
        const noise = tf.tensor4d(rng.normalArray(4 * 64 * 3), [4, 8, 8, 3]);
        const output = tf.tensor4d(rng.normalArray(4 * 64 * 6), [4, 8, 8, 6]);
        const weights = tf.tensor1d([0.5, 2, 1, 1.5]);
        const xT = qSample(d, xStart, t, noise);
        const lossOf = (f: (o: tf.Tensor4D) => tf.Tensor1D) => (o: tf.Tensor) => tf.sum(tf.mul(f(o as tf.Tensor4D), weights));
        const ours = tf.valueAndGrad(lossOf((o) => lossesFromOutput(d, o, xStart, xT, t, noise).loss))(output);
        const theirs = tf.valueAndGrad(lossOf((o) => joined(d, o, xStart, xT, t, noise)))(output);
        expect(bits(ours.value)).toEqual(bits(theirs.value));
        expect(bits(ours.grad)).toEqual(bits(theirs.grad));
        expect(tf.max(tf.abs(tf.slice(ours.grad, [0, 0, 0, 3], [-1, -1, -1, 3]))).dataSync()[0]).toBeGreaterThan(0);
        tf.dispose([xStart, noise, output, weights, xT, ours.value, ours.grad, theirs.value, theirs.grad]);
      });
    }
  }
});
