/**
 * The sampling-steps study's report: sample quality at K respaced steps for L_simple/fixed Σ and
 * L_hybrid/learned Σ (Figure 8), and a verdict per claim.
 */
import type * as P from '../../../src-shared/protocol';
import { compareSeries, comparisonOutcome, fmt, pairAtCommonX } from '../../../src-shared/studies/verdicts';
import type { QualityReader } from './studyQuality';
import { series, type StudyData } from './studyData';

type Built = Pick<P.StudyReport, 'verdicts' | 'charts' | 'tables' | 'notes'>;

const F = 'simple-fixed';
const L = 'hybrid-learned';

export function samplingStepsReport(d: StudyData, labels: Record<string, string>, quality: QualityReader): Built {
  const cfg = d.config(L) ?? d.config(F);
  const T = cfg?.diffusion.steps ?? 0;
  const fid: Record<string, { x: number[]; y: number[] }> = { [F]: quality.stepsCurve(F, 'fid'), [L]: quality.stepsCurve(L, 'fid') };
  const kid: Record<string, { x: number[]; y: number[] }> = { [F]: quality.stepsCurve(F, 'kid'), [L]: quality.stepsCurve(L, 'kid') };
  // Claim 1: learned Σ has the lower FID at few steps (K = 25 and 50, where the paper sees the gap).
  const few = pairAtCommonX(fid[L], fid[F]).filter((p) => p.x === 25 || p.x === 50);
  const fewCmp = compareSeries(few, 'below');
  const fewVerdict: P.StudyVerdict = {
    claimId: 'learned-sigma-few-steps',
    figure: 'Figure 8',
    outcome: few.length === 0 ? 'not enough data' : fewCmp.agree === few.length ? 'holds' : 'does not hold',
    line: few.length
      ? `learned-Σ FID below fixed-Σ at ${fewCmp.agree} of ${few.length} of K = 25, 50 (${few.map((p) => `K=${p.x}: ${fmt(p.a)} vs ${fmt(p.b)}`).join('; ')})`
      : 'no quality measurements at K = 25 or 50 yet',
  };
  // Claim 2: learned Σ loses less quality going from T steps to 50 than fixed Σ does.
  const rise = (xy: { x: number[]; y: number[] }) => {
    const iT = xy.x.indexOf(T);
    const i50 = xy.x.indexOf(50);
    return iT < 0 || i50 < 0 ? null : { full: xy.y[iT], at50: xy.y[i50], rise: xy.y[i50] - xy.y[iT] };
  };
  const rl = rise(fid[L]);
  const rf = rise(fid[F]);
  const holdVerdict: P.StudyVerdict =
    rl === null || rf === null
      ? { claimId: 'learned-sigma-holds-quality', figure: 'Figure 8', outcome: 'not enough data', line: `no quality measurements at K = 50 and K = T = ${T} of both runs yet` }
      : {
          claimId: 'learned-sigma-holds-quality',
          figure: 'Figure 8',
          outcome: rl.rise < rf.rise ? 'holds' : 'does not hold',
          line: `going from ${T} to 50 steps changes FID by ${fmt(rl.rise)} with learned Σ (${fmt(rl.full)} → ${fmt(rl.at50)}) and by ${fmt(rf.rise)} with fixed Σ (${fmt(rf.full)} → ${fmt(rf.at50)})`,
        };
  const charts: P.StudyChart[] = [
    {
      id: 'fid-vs-steps',
      title: 'FID vs sampling steps',
      figure: 'Figure 8',
      xLabel: 'sampling steps K',
      yLabel: 'FID (studio classifier features)',
      xScale: 'log',
      yScale: 'linear',
      series: [F, L].map((k) => series(labels[k], k, fid[k])),
      caption: 'Ancestral sampling on K respaced steps of the T the model was trained with; FID on the studio classifier’s features, not Inception FID.',
    },
    {
      id: 'kid-vs-steps',
      title: 'KID vs sampling steps',
      figure: 'Figure 8',
      xLabel: 'sampling steps K',
      yLabel: 'KID (studio classifier features)',
      xScale: 'log',
      yScale: 'linear',
      series: [F, L].map((k) => series(labels[k], k, kid[k])),
      caption: 'The same samples as the FID chart, measured by KID (unbiased; steadier than FID at the small sample counts a study can afford).',
    },
  ];
  const ks = [...new Set([...fid[F].x, ...fid[L].x])].sort((a, b) => a - b);
  const at = (xy: { x: number[]; y: number[] }, k: number) => xy.y[xy.x.indexOf(k)] ?? null;
  const tables: P.StudyTable[] = [
    {
      id: 'quality',
      title: 'FID and KID by sampling steps',
      columns: ['run', 'metric', ...ks.map((k) => `K=${k}`)],
      rows: [F, L].flatMap((k) => [
        [labels[k], 'FID', ...ks.map((s) => at(fid[k], s))],
        [labels[k], 'KID', ...ks.map((s) => at(kid[k], s))],
      ]),
    },
  ];
  return { verdicts: [fewVerdict, holdVerdict], charts, tables, notes: [`T = ${T}, batch ${cfg?.training.batchSize ?? '?'}, ${d.step(L)} steps per run: a small model trained briefly.`, ...quality.notes()] };
}
