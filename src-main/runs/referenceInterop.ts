/**
 * The run service's side of the reference interop (StudioApi importReferenceRun, followReferenceRun,
 * stopFollowingReferenceRun, listReferenceFollows, exportForReference): import and export in the service's
 * process, and the followers it keeps polling, whose rows, checkpoints and sample sets go out as the usual
 * live events so a followed cluster run draws like a local one.
 */
import path from 'node:path';
import { parseReferenceFlagString } from '../../src-shared/config/referenceFlagString';
import type * as P from '../../src-shared/protocol';
import type { Store } from '../store';
import { ApiFailure } from './apiFailure';
import type { EventHub } from './eventHub';
import { exportForReference } from './referenceExport';
import { ReferenceFollower, type FollowEvent } from './referenceFollow';
import { importReferenceRun } from './referenceImport';
import { toCheckpoint, toSampleSet, type UrlMapper } from './toProtocol';

export interface ReferenceInteropDeps {
  store: Store;
  dataDir: string;
  hub: EventHub;
  urls: UrlMapper;
  /** Announces a run's new summary (the service's emitRun). */
  emitRun: (runId: string) => P.RunSummary;
}

interface Following {
  follower: ReferenceFollower;
  stop: AbortController;
  status: P.ReferenceFollowStatus;
}

function flagsOf(text: string | undefined): Record<string, string> {
  try {
    return parseReferenceFlagString(text ?? '');
  } catch (e) {
    throw new ApiFailure('bad-request', (e as Error).message, { field: 'flags' });
  }
}

/** Errors of these operations are the user's input (paths, flags, runs), said in words: bad requests. */
function asBadRequest(e: unknown): never {
  if (e instanceof ApiFailure) throw e;
  throw new ApiFailure('bad-request', (e as Error).message);
}

export class ReferenceInterop {
  private readonly following = new Map<string, Following>();

  constructor(private readonly deps: ReferenceInteropDeps) {}

  async importRun(req: P.ReferenceImportRequest): Promise<P.ReferenceImportReply> {
    const flags = flagsOf(req.flags);
    try {
      const r = importReferenceRun({ store: this.deps.store, dataDir: this.deps.dataDir, source: req.path, flags, name: req.name });
      return { run: this.deps.emitRun(r.runId), notes: r.notes };
    } catch (e) {
      return asBadRequest(e);
    }
  }

  async follow(req: P.ReferenceFollowRequest): Promise<P.ReferenceFollowStatus> {
    const dir = path.resolve(req.dir);
    const current = this.following.get(dir);
    if (current?.status.following) return current.status;
    const flags = flagsOf(req.flags);
    if (req.runId !== undefined && !this.deps.store.getRun(req.runId)) throw new ApiFailure('not-found', `no run with id '${req.runId}'`);
    const status: P.ReferenceFollowStatus = { dir, runId: req.runId ?? null, following: true, lastMessage: null };
    const follower = new ReferenceFollower({
      store: this.deps.store,
      dataDir: this.deps.dataDir,
      dir,
      flags,
      runId: req.runId,
      name: req.name,
      onEvent: (e) => this.onEvent(status, e),
    });
    // The first look happens now, so bad flags or a foreign network are refused in the reply.
    try {
      follower.poll();
    } catch (e) {
      return asBadRequest(e);
    }
    const stop = new AbortController();
    this.following.set(dir, { follower, stop, status });
    const interval = (req.intervalSec ?? 5) * 1000;
    void (async () => {
      await new Promise((r) => setTimeout(r, interval));
      await follower.run(stop.signal, interval);
    })().catch((e: Error) => {
      status.following = false;
      status.lastMessage = `stopped: ${e.message}`;
    });
    return status;
  }

  async stop(dir: string): Promise<P.ReferenceFollowStatus> {
    const f = this.following.get(path.resolve(dir));
    if (!f) throw new ApiFailure('not-found', `${dir} is not being followed`);
    f.stop.abort();
    f.status.following = false;
    f.status.lastMessage = 'stopped; the run keeps what arrived';
    return f.status;
  }

  async list(): Promise<P.ReferenceFollowStatus[]> {
    return [...this.following.values()].map((f) => ({ ...f.status }));
  }

  async exportRun(req: P.ReferenceExportRequest): Promise<P.ReferenceExportReply> {
    if (!this.deps.store.getRun(req.runId)) throw new ApiFailure('not-found', `no run with id '${req.runId}'`);
    try {
      const r = await exportForReference({ store: this.deps.store, runId: req.runId, outDir: req.outDir, processes: req.processes, includeData: req.includeImages });
      return { outDir: r.outDir, step: r.step, files: r.files, images: r.images, notes: r.notes };
    } catch (e) {
      return asBadRequest(e);
    }
  }

  close(): void {
    for (const f of this.following.values()) f.stop.abort();
  }

  private onEvent(status: P.ReferenceFollowStatus, e: FollowEvent): void {
    const { hub, store, urls } = this.deps;
    switch (e.type) {
      case 'waiting':
        status.lastMessage = `waiting: ${e.reason}`;
        return;
      case 'retry':
        status.lastMessage = `retrying ${path.basename(e.file)}: ${e.reason}`;
        return;
      case 'attached':
        status.runId = e.runId;
        status.lastMessage = e.created ? `created run ${e.runId}` : `following into run ${e.runId}`;
        this.deps.emitRun(e.runId);
        return;
      case 'rows':
        status.lastMessage = `step ${e.lastStep}`;
        hub.rows(
          e.runId,
          e.rows.map((r) => ({ step: r.step, loss: r.loss, mse: r.mse, vb: r.vb, gradNorm: r.gradNorm, lr: r.lr, samplesPerSec: r.samplesPerSec, quartiles: [...(r.lossQ ?? [null, null, null, null])] })),
        );
        this.deps.emitRun(e.runId);
        return;
      case 'checkpoint': {
        status.lastMessage = `checkpoint at step ${e.step}`;
        const c = store.listCheckpoints(e.runId).find((x) => x.step === e.step);
        if (c) hub.emit({ type: 'checkpoint', runId: e.runId, checkpoint: toCheckpoint(c, store.getRun(e.runId)?.config.training.emaWarmup === true) });
        this.deps.emitRun(e.runId);
        return;
      }
      case 'samples': {
        const set = store.getSampleSet(e.setId);
        if (set) hub.emit({ type: 'sampleSet', set: toSampleSet(set, set.images, urls) });
        return;
      }
    }
  }
}
