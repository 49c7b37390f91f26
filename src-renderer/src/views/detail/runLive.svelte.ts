/**
 * Everything the Run detail view shows for one run, kept current: a backfill from `runDetail` (on open
 * and after every reconnect) plus the live events for this run. Chart series are plain arrays mutated in
 * place (appending is O(1) and never copies a long curve); `version` is bumped once per animation frame
 * so the charts redraw at most that often.
 */
import type {
  CheckpointDamage,
  CheckpointInfo,
  Evaluation,
  GnsPoint,
  MetricName,
  RunSummary,
  SampleSet,
  StepRow,
  StudioEvent,
  VlbSnapshot,
} from '../../../../src-shared/protocol';
import type { StudioClient } from '../../api';
import { frameThrottle } from '../../lib/live';

export interface XYSeries {
  x: number[];
  y: number[];
}

/** Points asked of the store per series: enough for a wide chart; LTTB thins them to the pixel width. */
export const BACKFILL_POINTS = 2000;

const METRICS: MetricName[] = ['loss', 'mse', 'vb', 'gradNorm', 'lr', 'samplesPerSec', 'loss_q0', 'loss_q1', 'loss_q2', 'loss_q3'];

export class RunLive {
  run: RunSummary | null = $state(null);
  error: string | null = $state(null);
  /** Bumped (once per frame at most) when any series array grew. */
  version = $state(0);
  readonly series = new Map<MetricName, XYSeries>(METRICS.map((m) => [m, { x: [], y: [] }]));
  vlbSteps: number[] = $state([]);
  latestVlb: VlbSnapshot | null = $state.raw(null);
  gns: GnsPoint[] = $state.raw([]);
  samplerWeights: { step: number; weights: number[] } | null = $state.raw(null);
  checkpoints: CheckpointInfo[] = $state.raw([]);
  previews: SampleSet[] = $state.raw([]);
  evaluations: Evaluation[] = $state.raw([]);
  /** The newest checkpoint is damaged (only for a run that is not running). */
  checkpointDamage: CheckpointDamage | null = $state.raw(null);

  private readonly bump = frameThrottle(() => this.version++);

  constructor(
    private readonly client: StudioClient,
    readonly runId: string,
  ) {}

  /** Replace everything with the store's view (first load and after a reconnect). */
  async backfill(): Promise<void> {
    try {
      const d = await this.client.runDetail(this.runId, BACKFILL_POINTS);
      this.run = d.run;
      for (const m of METRICS) {
        const s = d.series[m];
        const target = this.series.get(m)!;
        target.x = s ? [...s.step] : [];
        target.y = s ? [...s.value] : [];
      }
      this.vlbSteps = [...d.vlbSteps];
      this.latestVlb = d.latestVlb;
      this.gns = d.gns;
      this.samplerWeights = d.samplerWeights;
      this.checkpoints = d.checkpoints;
      this.previews = [...d.previews].sort((a, b) => b.createdAt - a.createdAt);
      this.evaluations = d.evaluations;
      this.checkpointDamage = d.checkpointDamage;
      this.error = null;
      this.version++;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  /** Apply one studio event if it concerns this run. */
  handle(e: StudioEvent): void {
    switch (e.type) {
      case 'run':
        if (e.run.id !== this.runId) break;
        // 'run' events are throttled separately from metric rows and can trail them: while the run keeps
        // running, never let the shown step fall behind the rows already drawn.
        if (this.run && this.run.status === e.run.status && e.run.step < this.run.step) this.run = { ...e.run, step: this.run.step };
        else this.run = e.run;
        if (e.run.status === 'running' || e.run.status === 'queued') this.checkpointDamage = null;
        break;
      case 'metrics':
        if (e.runId === this.runId) this.appendRows(e.rows);
        break;
      case 'vlb':
        if (e.runId !== this.runId) break;
        if (!this.vlbSteps.includes(e.snapshot.step)) this.vlbSteps = [...this.vlbSteps, e.snapshot.step];
        this.latestVlb = e.snapshot;
        break;
      case 'gns':
        if (e.runId === this.runId) this.gns = [...this.gns, e.point];
        break;
      case 'samplerWeights':
        if (e.runId === this.runId) this.samplerWeights = { step: e.step, weights: e.weights };
        break;
      case 'checkpoint':
        if (e.runId === this.runId) {
          const removed = new Set(e.removedIds ?? []);
          this.checkpoints = [...this.checkpoints.filter((c) => !removed.has(c.id)), e.checkpoint];
        }
        break;
      case 'sampleSet':
        if (e.set.runId === this.runId && e.set.kind === 'preview') this.previews = [e.set, ...this.previews];
        break;
      case 'evaluation':
        if (e.evaluation.runId === this.runId) this.evaluations = [...this.evaluations, e.evaluation];
        break;
      case 'runDeleted':
        if (e.runId === this.runId) this.error = 'This run was deleted.';
        break;
    }
  }

  private appendRows(rows: StepRow[]): void {
    const push = (m: MetricName, step: number, v: number | null | undefined) => {
      if (v === null || v === undefined) return;
      const s = this.series.get(m)!;
      // Rows can overlap a backfill that raced them, and a resumed run restarts from its checkpoint's
      // step: drop what lies at or after this step, so x keeps increasing and the newest values win.
      while (s.x.length && s.x[s.x.length - 1] >= step) {
        s.x.pop();
        s.y.pop();
      }
      s.x.push(step);
      s.y.push(v);
    };
    for (const r of rows) {
      push('loss', r.step, r.loss);
      push('mse', r.step, r.mse);
      push('vb', r.step, r.vb);
      push('gradNorm', r.step, r.gradNorm);
      push('lr', r.step, r.lr);
      push('samplesPerSec', r.step, r.samplesPerSec);
      r.quartiles.forEach((q, i) => push(`loss_q${i}` as MetricName, r.step, q));
    }
    const last = rows[rows.length - 1];
    // The summary's step follows the rows too, so `run-step` moves with the chart between 'run' events.
    if (last && this.run && last.step > this.run.step) this.run = { ...this.run, step: last.step, lastLoss: last.loss };
    this.bump.schedule();
  }

  dispose(): void {
    this.bump.cancel();
  }
}
