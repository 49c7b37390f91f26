/**
 * Following a reference run while a cluster writes it: polls its log directory (local or a mounted shared
 * folder) and brings new progress.csv rows, checkpoints and sample batches into one studio run, so its charts
 * grow as for a local run. The run is the one imported from this folder before, the one named by `runId`
 * (e.g. the studio run that was exported to the cluster), or, at the first complete checkpoint, a new one.
 *
 * Files the cluster is still writing are never read half-way: a .pt is taken only once its size and mtime
 * stayed the same over two polls and its EMA/optimizer companions are there (or a later step exists), a file
 * that still fails to decode is retried on the next poll, and progress.csv's unfinished last line waits.
 * Stopping leaves the run as it is.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../../src-shared/config/runConfig';
import { unetParamCount } from '../../src-shared/config/paramCount';
import { inferArchitecture } from '../interop/inferArchitecture';
import { parseProgressCsv } from '../interop/progressCsv';
import { scanReferenceLogDir, type ReferenceCheckpointFiles, type ReferenceLogDir } from '../interop/referenceLogDir';
import { asStateDict } from '../interop/studioCheckpoint';
import { readTorchFile } from '../interop/torchFile';
import type { Store } from '../store';
import type { StepMetricRow } from '../store/types';
import { createImportedRun, findImportedRun, importReferenceCheckpoint, importSampleBatch, progressToMetrics } from './referenceImport';

export type FollowEvent =
  | { type: 'waiting'; reason: string }
  | { type: 'attached'; runId: string; created: boolean; notes: string[] }
  | { type: 'rows'; runId: string; count: number; lastStep: number; rows: StepMetricRow[] }
  | { type: 'checkpoint'; runId: string; step: number; path: string }
  | { type: 'samples'; runId: string; setId: number; file: string }
  | { type: 'retry'; file: string; reason: string };

export interface FollowOptions {
  store: Store;
  dataDir: string;
  /** The reference log directory (OPENAI_LOGDIR of the cluster run). */
  dir: string;
  /** Reference flags, needed to create the run (as for import). */
  flags?: Readonly<Record<string, unknown>>;
  /** Follow into this existing run (its architecture must match the files). */
  runId?: string;
  name?: string;
  onEvent?: (e: FollowEvent) => void;
}

/** size:mtime of a file, or null when it is gone. */
function fingerprint(file: string): string | null {
  try {
    const s = statSync(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return null;
  }
}

export class ReferenceFollower {
  private runId: string | null = null;
  private config: RunConfig | null = null;
  private runFolder = '';
  /** size:mtime of every file at the previous and at this poll. */
  private previous = new Map<string, string | null>();
  private seen = new Map<string, string | null>();
  private progressPrint: string | null = null;
  private readonly importedSamples = new Set<string>();
  private readonly dir: string;

  constructor(private readonly opts: FollowOptions) {
    this.dir = path.resolve(opts.dir);
  }

  get attachedRun(): string | null {
    return this.runId;
  }

  private emit(e: FollowEvent): void {
    this.opts.onEvent?.(e);
  }

  /** Looks at every file of the folder once per poll, so "settled" compares two polls. */
  private observe(logDir: ReferenceLogDir): void {
    this.previous = this.seen;
    const files = [...logDir.checkpoints.flatMap((c) => [c.model, ...c.ema.values(), ...(c.opt ? [c.opt] : [])]), ...logDir.samples.map((s) => s.file)];
    this.seen = new Map(files.map((f) => [f, fingerprint(f)]));
  }

  /** True when the file looks the same as at the previous poll (so nobody is writing it). */
  private settled(file: string): boolean {
    const now = this.seen.get(file);
    return now != null && this.previous.get(file) === now;
  }

  /** A checkpoint whose files are all written: model, the run's EMAs and the optimizer, unchanged since last poll. */
  private ready(c: ReferenceCheckpointFiles, laterExists: boolean, emaRates: readonly number[]): boolean {
    const files = [c.model, ...c.ema.values(), ...(c.opt ? [c.opt] : [])];
    const allSettled = files.map((f) => this.settled(f)).every(Boolean);
    const complete = emaRates.every((r) => c.ema.has(r)) && c.opt !== null;
    return allSettled && (complete || laterExists);
  }

  private attach(logDir: ReferenceLogDir): boolean {
    const { store } = this.opts;
    const existing = this.opts.runId ?? findImportedRun(store, this.dir);
    if (existing) {
      const run = store.getRun(existing);
      if (!run) throw new Error(`no run '${existing}' to follow into (see iddpm runs)`);
      const first = logDir.checkpoints[0];
      if (this.opts.runId && first && this.settled(first.model)) {
        // Following into a run that was not imported from here: the files must be of its network.
        const arch = inferArchitecture(asStateDict(readTorchFile(first.model), first.model), first.model);
        const m = run.config.model;
        if (arch.paramCount !== unetParamCount(run.config) || arch.channels !== m.channels || arch.channelMult.join(',') !== m.channelMult.join(',')) {
          throw new Error(`${first.model} is not a checkpoint of run '${existing}': its network (${arch.channels} channels, channel_mult ${arch.channelMult.join(',')}, ${arch.paramCount} parameters) differs from the run's`);
        }
      } else if (this.opts.runId && first) {
        this.emit({ type: 'waiting', reason: `${path.basename(first.model)} is still being written` });
        return false;
      }
      this.runId = existing;
      this.config = run.config;
      this.runFolder = run.runDir ?? '';
      for (const s of store.listSampleSets({ runId: existing })) {
        const src = s.settings?.source;
        if (typeof src === 'string') this.importedSamples.add(src);
      }
      this.emit({ type: 'attached', runId: existing, created: false, notes: [] });
      return true;
    }
    // A new run needs one finished checkpoint to read the architecture from.
    const candidates = logDir.checkpoints.filter((c) => this.settled(c.model));
    const from = candidates.at(-1);
    if (!from) {
      this.emit({ type: 'waiting', reason: logDir.checkpoints.length ? 'the first checkpoint is still being written' : `no model<step>.pt in ${this.dir} yet` });
      return false;
    }
    let created;
    try {
      created = createImportedRun({ store, dataDir: this.opts.dataDir, source: this.dir, logDir, shapesFrom: from, flags: this.opts.flags, name: this.opts.name ?? `following ${path.basename(this.dir)}` });
    } catch (e) {
      if (/damaged PyTorch checkpoint/.test((e as Error).message)) {
        this.emit({ type: 'retry', file: from.model, reason: (e as Error).message });
        return false;
      }
      throw e; // bad flags: the user must fix them
    }
    this.runId = created.runId;
    this.config = created.config;
    this.runFolder = created.dir;
    this.emit({ type: 'attached', runId: created.runId, created: true, notes: created.notes });
    return true;
  }

  /** One pass over the folder: attach if needed, then bring in whatever is new and finished. */
  poll(): void {
    const { store } = this.opts;
    let logDir: ReferenceLogDir;
    try {
      logDir = scanReferenceLogDir(this.dir);
    } catch (e) {
      this.emit({ type: 'waiting', reason: (e as Error).message });
      return;
    }
    this.observe(logDir);
    if (!this.runId && !this.attach(logDir)) return;
    const runId = this.runId!;
    const config = this.config!;

    if (logDir.progress) {
      const print = fingerprint(logDir.progress);
      if (print !== this.progressPrint) {
        const { rows } = parseProgressCsv(readFileSync(logDir.progress, 'utf8'), logDir.progress);
        // The first read (also after a restart) writes every row: writes are idempotent per step, and the
        // reference's rows begin after the step it resumed from, so a followed-into run keeps its own history.
        const fresh = progressToMetrics(rows, config).filter((r) => this.lastMetricStep === null || r.step > this.lastMetricStep);
        if (fresh.length) {
          store.appendStepMetrics(runId, fresh);
          this.lastMetricStep = fresh.at(-1)!.step;
          this.emit({ type: 'rows', runId, count: fresh.length, lastStep: this.lastMetricStep, rows: fresh });
        }
        this.progressPrint = print;
      }
    }

    const have = new Set(store.listCheckpoints(runId).map((c) => c.step));
    logDir.checkpoints.forEach((c, i) => {
      if (have.has(c.step)) return;
      if (!this.ready(c, i < logDir.checkpoints.length - 1, config.training.emaRates)) return;
      try {
        importReferenceCheckpoint(store, runId, this.runFolder, config, c);
        this.emit({ type: 'checkpoint', runId, step: c.step, path: c.model });
      } catch (e) {
        // A file that settled but still does not decode (a slow network share): try again next poll.
        for (const f of [c.model, ...c.ema.values(), ...(c.opt ? [c.opt] : [])]) this.seen.delete(f);
        this.emit({ type: 'retry', file: c.model, reason: (e as Error).message });
      }
    });

    for (const s of logDir.samples) {
      if (this.importedSamples.has(path.resolve(s.file)) || !this.settled(s.file)) continue;
      try {
        const latest = store.listCheckpoints(runId).at(-1)?.step ?? null;
        const setId = importSampleBatch(store, runId, this.runFolder, config, s.file, latest);
        this.importedSamples.add(path.resolve(s.file));
        this.emit({ type: 'samples', runId, setId, file: s.file });
      } catch (e) {
        this.seen.delete(s.file);
        this.emit({ type: 'retry', file: s.file, reason: (e as Error).message });
      }
    }

    const lastCheckpoint = store.listCheckpoints(runId).at(-1)?.step ?? 0;
    const step = Math.max(lastCheckpoint, this.lastMetricStep ?? 0);
    if (step > (store.getRun(runId)?.step ?? 0)) store.updateRun(runId, { step });
  }

  private lastMetricStep: number | null = null;

  /** Polls every `intervalMs` until the signal aborts. */
  async run(signal: AbortSignal, intervalMs = 2000): Promise<void> {
    while (!signal.aborted) {
      try {
        this.poll();
      } catch (e) {
        // Before a run exists the cause is the user's (flags, a folder that is no reference run): stop and say so.
        // Afterwards a failing look (a share that blinked) is reported and tried again.
        if (!this.runId) throw e;
        this.emit({ type: 'retry', file: this.dir, reason: (e as Error).message });
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, intervalMs);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  }
}
