/**
 * The importance-sampling study's report: loss curves and NLL over training (Figure 6), the gradient noise
 * scale of each run (Figure 7), the sampler's weights over t, and a verdict per claim.
 */
import type * as P from '../../../src-shared/protocol';
import { GNS_SMOOTHING_STEPS } from '../../../src-shared/gradientNoiseScale';
import { compareSeries, comparisonLine, comparisonOutcome, firstNonUniformStep, fmt, logNoise, median, pairAtCommonX } from '../../../src-shared/studies/verdicts';
import { series, type StudyData } from './studyData';

type Built = Pick<P.StudyReport, 'verdicts' | 'charts' | 'tables' | 'notes'>;

const U = 'vlb-uniform';
const IS = 'vlb-importance';
const H = 'hybrid';

export function importanceSamplingReport(d: StudyData, labels: Record<string, string>): Built {
  const keys = [U, IS, H];
  const cfg = d.config(U) ?? d.config(IS);
  const T = cfg?.diffusion.steps ?? 0;
  const active = firstNonUniformStep(d.samplerWeights(IS));
  const lastStep = Math.min(d.step(U), d.step(IS));

  // Noise of the loss curves over the same steps for both L_vlb runs: from when importance sampling is on
  // (and not before the second half, so early training's fast fall does not count as noise).
  const from = active === null ? null : Math.max(active, Math.floor(lastStep / 2));
  const noiseU = from === null ? null : logNoise(d.lossValues(U, from));
  const noiseIS = from === null ? null : logNoise(d.lossValues(IS, from));
  let noisyVerdict: P.StudyVerdict;
  if (active === null) {
    noisyVerdict = {
      claimId: 'is-less-noisy',
      figure: 'Figure 6',
      outcome: 'not enough data',
      line: `the importance sampler never left uniform sampling in ${d.step(IS)} steps (it waits until each of the T = ${T} steps has 10 losses): train longer`,
    };
  } else if (noiseU === null || noiseIS === null) {
    noisyVerdict = { claimId: 'is-less-noisy', figure: 'Figure 6', outcome: 'not enough data', line: `too few steps after step ${from} to measure the loss curves' noise` };
  } else {
    noisyVerdict = {
      claimId: 'is-less-noisy',
      figure: 'Figure 6',
      outcome: noiseIS < noiseU ? 'holds' : 'does not hold',
      line: `importance-sampled L_vlb loss ${noiseIS < noiseU ? 'less' : 'not less'} noisy than uniform L_vlb: noise ${fmt(noiseIS)} vs ${fmt(noiseU)} (robust spread of log-loss, steps ${from}–${lastStep}; importance sampling on by step ${active}: the sampler's weights are recorded every 50 steps)`,
    };
  }

  // Until the sampler leaves uniform, the two L_vlb runs draw the same t (same seed): only checkpoints after
  // that compare the samplers.
  const nllPairs = active === null ? [] : pairAtCommonX(d.nll(IS), d.nll(U)).filter((p) => p.x > active);
  const nllCmp = compareSeries(nllPairs, 'below');
  const nllVerdict: P.StudyVerdict = {
    claimId: 'is-better-nll',
    figure: 'Figure 6',
    outcome: comparisonOutcome(nllCmp, 1),
    line:
      active === null
        ? `the importance sampler never left uniform sampling, so both L_vlb runs trained on the same t: no checkpoint compares the samplers`
        : comparisonLine('importance-sampled L_vlb', 'NLL below', 'uniform L_vlb', nllCmp, `checkpoints after step ${active}`, 'bits/dim'),
  };

  const gnsPairs = pairAtCommonX(d.gns(U), d.gns(H));
  const gnsCmp = compareSeries(gnsPairs, 'above');
  const gnsVerdict: P.StudyVerdict = {
    claimId: 'vlb-noisier-gradients',
    figure: 'Figure 7',
    outcome: comparisonOutcome(gnsCmp, 3),
    line:
      comparisonLine('uniform L_vlb', 'gradient noise scale above', 'L_hybrid', gnsCmp, 'estimates') +
      (gnsPairs.length ? `; median B_simple ${fmt(median(gnsPairs.map((p) => p.a)))} vs ${fmt(median(gnsPairs.map((p) => p.b)))}` : ''),
  };

  const lastWeights = d.samplerWeights(IS).at(-1);
  const charts: P.StudyChart[] = [
    {
      id: 'loss',
      title: 'Training loss',
      figure: 'Figure 6',
      xLabel: 'training step',
      yLabel: 'loss (per-sample mean, bucketed)',
      xScale: 'linear',
      yScale: 'log',
      series: keys.map((k) => series(labels[k], k, d.lossCurve(k))),
      caption: 'The training loss of each run, averaged into buckets of steps. Both L_vlb runs estimate the same bound (importance weights 1/(T·p_t) keep the estimate unbiased); L_hybrid is on another scale (L_simple + λ·L_vlb).',
    },
    {
      id: 'nll',
      title: 'NLL over training',
      figure: 'Figure 6',
      xLabel: 'training step',
      yLabel: 'NLL (bits/dim)',
      xScale: 'linear',
      yScale: 'linear',
      series: keys.map((k) => series(labels[k], k, d.nll(k))),
      caption: 'The full variational bound in bits/dim on the same held-out images at each checkpoint (the studio’s NLL evaluation over all T steps).',
    },
    {
      id: 'gns',
      title: 'Gradient noise scale',
      figure: 'Figure 7',
      xLabel: 'training step',
      yLabel: 'B_simple',
      xScale: 'linear',
      yScale: 'log',
      series: keys.map((k) => series(labels[k], k, d.gns(k))),
      caption: `B_simple = tr(Σ)/|G|² (McCandlish et al. 2018): the batch size at which the gradient's noise equals its signal; higher means noisier gradients. Smoothed with a time constant of ${GNS_SMOOTHING_STEPS} steps.`,
    },
  ];
  if (lastWeights) {
    charts.push({
      id: 'sampler-weights',
      title: `Importance sampler's weights over t (step ${lastWeights.step})`,
      figure: null,
      xLabel: 't',
      yLabel: 'p_t',
      xScale: 'linear',
      yScale: 'log',
      series: [series(labels[IS], IS, { x: lastWeights.weights.map((_, t) => t), y: normalise(lastWeights.weights) })],
      caption: 'p_t ∝ √E[L_t²] over the last 10 losses at each t, mixed with 0.001 uniform; flat until every t has 10 losses.',
    });
  }

  const table: P.StudyTable = {
    id: 'summary',
    title: 'Summary by run',
    columns: ['run', 'steps', 'last NLL (bits/dim)', 'loss noise', 'median B_simple', 'importance sampling on by step'],
    rows: keys.map((k) => {
      const nll = d.nll(k);
      const noise = from === null ? null : logNoise(d.lossValues(k, from));
      const g = d.gns(k).y;
      return [labels[k], d.step(k), nll.y.at(-1) ?? null, noise, g.length ? median(g) : null, k === IS ? (active ?? 'never') : '—'];
    }),
  };
  const notes = [
    `T = ${T}, batch ${cfg?.training.batchSize ?? '?'}, ${d.step(U)} steps per run on ${cfg?.model.imageSize ?? '?'} px ${cfg?.dataset.kind ?? ''}: a small model trained briefly, so the numbers show the direction of the paper's effects, not its values.`,
    'The loss-second-moment sampler draws t uniformly until every t has 10 losses (SPEC §5); its effect starts only then.',
  ];
  return { verdicts: [noisyVerdict, nllVerdict, gnsVerdict], charts, tables: [table], notes };
}

function normalise(w: readonly number[]): number[] {
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => (s > 0 ? v / s : 0));
}
