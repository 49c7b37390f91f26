/**
 * The noise-schedule study's report: NLL over training of the linear and cosine runs, the per-t VLB terms of
 * each (Figure 2), sample quality when a prefix of the reverse process is skipped (Figure 3), and a verdict
 * per claim.
 */
import type * as P from '../../../src-shared/protocol';
import { compareSeries, comparisonLine, comparisonOutcome, fmt, pairAtCommonX, tailShare } from '../../../src-shared/studies/verdicts';
import { series, type StudyData } from './studyData';
import type { QualityReader } from './studyQuality';

type Built = Pick<P.StudyReport, 'verdicts' | 'charts' | 'tables' | 'notes'>;

/** The part of the chain Figure 2's claim is about: the last 20% of t. */
const TAIL = 0.2;

export function noiseScheduleReport(d: StudyData, labels: Record<string, string>, quality: QualityReader): Built {
  const keys = ['linear', 'cosine'];
  const cfg = d.config('linear') ?? d.config('cosine');
  const T = cfg?.diffusion.steps ?? 0;

  const nllCmp = compareSeries(pairAtCommonX(d.nll('cosine'), d.nll('linear')), 'below');
  const nllVerdict: P.StudyVerdict = {
    claimId: 'cosine-better-nll',
    figure: 'Table 2',
    outcome: comparisonOutcome(nllCmp, 1),
    line: comparisonLine('cosine', 'NLL below', 'linear', nllCmp, 'evaluations', 'bits/dim'),
  };

  const terms = Object.fromEntries(keys.map((k) => [k, d.vlbTerms(k)]));
  const share = (k: string) => (terms[k] ? tailShare(terms[k]!.timesteps, terms[k]!.termsBpd, T, TAIL) : null);
  const linShare = share('linear');
  const cosShare = share('cosine');
  // "Contributes little": the last 20% of t carry less than their 20% share of the bound, and less than
  // under the cosine schedule.
  const tailVerdict: P.StudyVerdict =
    linShare === null
      ? { claimId: 'linear-end-contributes-little', figure: 'Figure 2', outcome: 'not enough data', line: 'the linear run has no VLB terms yet' }
      : {
          claimId: 'linear-end-contributes-little',
          figure: 'Figure 2',
          outcome: linShare < TAIL && (cosShare === null || linShare < cosShare) ? 'holds' : 'does not hold',
          line: `the last ${TAIL * 100}% of t carry ${fmt(100 * linShare)}% of the linear run's bound${cosShare === null ? '' : ` (cosine: ${fmt(100 * cosShare)}%)`}, at step ${terms.linear!.step}${terms.linear!.full ? '' : ' (strided t of a training snapshot)'}`,
        };

  const skipped = Object.fromEntries(keys.map((k) => [k, quality.skipCurve(k, 'fid')]));
  const at = (xy: { x: number[]; y: number[] }, f: number) => {
    const i = xy.x.findIndex((x) => Math.abs(x - f) < 1e-9);
    return i < 0 ? null : xy.y[i];
  };
  const lin0 = at(skipped.linear, 0);
  const lin20 = at(skipped.linear, TAIL);
  const cos0 = at(skipped.cosine, 0);
  const cos20 = at(skipped.cosine, TAIL);
  let skipVerdict: P.StudyVerdict;
  if (lin0 === null || lin20 === null) {
    skipVerdict = { claimId: 'linear-skip-robust', figure: 'Figure 3', outcome: 'not enough data', line: `no quality measurement of the linear run at 0% and ${TAIL * 100}% skipped yet` };
  } else {
    const linRise = lin20 - lin0;
    const cosRise = cos0 !== null && cos20 !== null ? cos20 - cos0 : null;
    // "Does not get much worse": its FID rises less when skipping than the cosine run's does.
    const holds = cosRise === null ? linRise <= 0.1 * Math.abs(lin0) : linRise < cosRise;
    skipVerdict = {
      claimId: 'linear-skip-robust',
      figure: 'Figure 3',
      outcome: holds ? 'holds' : 'does not hold',
      line: `skipping the first ${TAIL * 100}% of the reverse process changes the linear run's FID by ${fmt(linRise)} (${fmt(lin0)} → ${fmt(lin20)})${cosRise === null ? '' : `, the cosine run's by ${fmt(cosRise)} (${fmt(cos0)} → ${fmt(cos20)})`}`,
    };
  }

  const charts: P.StudyChart[] = [
    {
      id: 'nll',
      title: 'NLL over training',
      figure: 'Table 2',
      xLabel: 'training step',
      yLabel: 'NLL (bits/dim)',
      xScale: 'linear',
      yScale: 'linear',
      series: keys.map((k) => series(labels[k], k, d.nll(k))),
      caption: 'The full variational bound in bits/dim on the same held-out images at each checkpoint.',
    },
    {
      id: 'vlb-terms',
      title: 'VLB terms vs diffusion step',
      figure: 'Figure 2',
      xLabel: 't',
      yLabel: 'L_t (bits/dim)',
      xScale: 'linear',
      yScale: 'log',
      series: keys.filter((k) => terms[k]).map((k) => series(`${labels[k]} (step ${terms[k]!.step})`, k, { x: terms[k]!.timesteps, y: terms[k]!.termsBpd })),
      caption: 'Each term of the bound at its diffusion step t, from the newest NLL evaluation (all T) of each run.',
    },
    {
      id: 'skip',
      title: 'FID when skipping a prefix of the reverse process',
      figure: 'Figure 3',
      xLabel: 'fraction of the reverse process skipped',
      yLabel: 'FID (studio classifier features)',
      xScale: 'linear',
      yScale: 'linear',
      series: keys.map((k) => series(labels[k], k, skipped[k])),
      caption: 'Sampling starts from pure noise at t = ⌊(1 − fraction)·T⌋, skipping the first steps of the reverse process (respaced over the steps left). FID on the studio classifier’s features, not Inception FID.',
    },
    {
      id: 'skip-kid',
      title: 'KID when skipping a prefix of the reverse process',
      figure: 'Figure 3',
      xLabel: 'fraction of the reverse process skipped',
      yLabel: 'KID (studio classifier features)',
      xScale: 'linear',
      yScale: 'linear',
      series: keys.map((k) => series(labels[k], k, quality.skipCurve(k, 'kid'))),
      caption: 'The same samples as the FID chart, measured by KID (unbiased; steadier than FID at small sample counts).',
    },
  ];
  const tables: P.StudyTable[] = [
    {
      id: 'summary',
      title: 'Summary by run',
      columns: ['run', 'steps', 'last NLL (bits/dim)', `share of the bound in the last ${TAIL * 100}% of t`],
      rows: keys.map((k) => [labels[k], d.step(k), d.nll(k).y.at(-1) ?? null, share(k)]),
    },
  ];
  return { verdicts: [nllVerdict, tailVerdict, skipVerdict], charts, tables, notes: [`T = ${T}, batch ${cfg?.training.batchSize ?? '?'}, ${d.step('linear')} steps per run: a small model trained briefly.`, ...quality.notes()] };
}
