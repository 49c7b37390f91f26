import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qMeanVariance, qPosterior, qSample } from '../../src-main/engine/diffusion/forward';
import { lossesFromOutput, priorBpd, trainingLosses, vbTerms } from '../../src-main/engine/diffusion/losses';
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
