/**
 * Following a reference log directory while it is written: rows and checkpoints appended to a real folder
 * arrive in a real SQLite store; half-written files wait, damaged ones are retried, nothing crashes.
 */
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReferenceFollower, type FollowEvent } from '../../src-main/runs/referenceFollow';
import { tempStore, type TempStore } from '../store/helpers';

const LOGDIR = path.join(__dirname, '..', 'fixtures', 'reference', 'logdir');
const FLAGS = { image_size: '8', num_heads: '2', diffusion_steps: '50', noise_schedule: 'cosine' };
const progressLines = readFileSync(path.join(LOGDIR, 'progress.csv'), 'utf8').split('\n').filter(Boolean);

/** The fixture's checkpoint files under another step number, as the cluster would write them. */
function writeCheckpoint(dir: string, step: number, parts: { model?: Buffer; ema?: boolean; opt?: boolean } = {}) {
  const s = String(step).padStart(6, '0');
  if (parts.model) writeFileSync(path.join(dir, `model${s}.pt`), parts.model);
  else copyFileSync(path.join(LOGDIR, 'model000004.pt'), path.join(dir, `model${s}.pt`));
  if (parts.ema ?? true) copyFileSync(path.join(LOGDIR, 'ema_0.9999_000004.pt'), path.join(dir, `ema_0.9999_${s}.pt`));
  if (parts.opt ?? true) copyFileSync(path.join(LOGDIR, 'opt000004.pt'), path.join(dir, `opt${s}.pt`));
}

describe('following a reference run', () => {
  let t: TempStore;
  let dir: string;
  let events: FollowEvent[];
  let follower: ReferenceFollower;
  beforeEach(() => {
    t = tempStore();
    dir = path.join(t.dir, 'cluster-logs');
    mkdirSync(dir);
    events = [];
    follower = new ReferenceFollower({ store: t.store, dataDir: t.dir, dir, flags: FLAGS, onEvent: (e) => events.push(e) });
  });
  afterEach(() => t.cleanup());

  it('creates the run at the first finished checkpoint, then adds rows and checkpoints as they are written', () => {
    writeFileSync(path.join(dir, 'progress.csv'), `${progressLines.slice(0, 3).join('\n')}\n`);
    follower.poll();
    expect(events.at(-1)).toMatchObject({ type: 'waiting', reason: expect.stringMatching(/no model<step>\.pt/) });

    writeCheckpoint(dir, 2);
    follower.poll(); // first sight: the files might still grow
    expect(t.store.listRuns()).toHaveLength(0);
    follower.poll();
    const runId = follower.attachedRun!;
    expect(events).toContainEqual(expect.objectContaining({ type: 'attached', runId, created: true }));
    expect(t.store.listCheckpoints(runId).map((c) => c.step)).toEqual([2]);
    expect(t.store.readSeriesRaw(runId, 'loss').step).toEqual([1, 2]);

    // The cluster logs two more steps and is in the middle of a third line.
    appendFileSync(path.join(dir, 'progress.csv'), `${progressLines.slice(3, 5).join('\n')}\n${progressLines[3].slice(0, 20)}`);
    follower.poll();
    expect(t.store.readSeriesRaw(runId, 'loss').step).toEqual([1, 2, 3, 4]);
    expect(events).toContainEqual(expect.objectContaining({ type: 'rows', runId, count: 2, lastStep: 4 }));

    // model000004.pt is half written, its EMA and optimizer files not yet.
    const whole = readFileSync(path.join(LOGDIR, 'model000004.pt'));
    writeCheckpoint(dir, 4, { model: whole.subarray(0, whole.length / 2), ema: false, opt: false });
    follower.poll();
    follower.poll();
    expect(t.store.listCheckpoints(runId).map((c) => c.step)).toEqual([2]);

    writeCheckpoint(dir, 4);
    follower.poll();
    follower.poll();
    expect(t.store.listCheckpoints(runId).map((c) => c.step)).toEqual([2, 4]);
    expect(events).toContainEqual({ type: 'checkpoint', runId, step: 4, path: path.join(dir, 'model000004.pt') });
    expect(t.store.getRun(runId)!.step).toBe(4);
    expect(t.store.getRun(runId)!.status).toBe('stopped');
  });

  it('retries a checkpoint that stopped growing but does not decode, and takes it once it does', () => {
    writeCheckpoint(dir, 2);
    follower.poll();
    follower.poll();
    const runId = follower.attachedRun!;
    const whole = readFileSync(path.join(LOGDIR, 'model000004.pt'));
    writeCheckpoint(dir, 6, { model: whole.subarray(0, 1000) }); // a copy over a slow share that stalled
    follower.poll();
    follower.poll();
    expect(events).toContainEqual(expect.objectContaining({ type: 'retry', file: path.join(dir, 'model000006.pt'), reason: expect.stringMatching(/damaged PyTorch checkpoint/) }));
    expect(t.store.listCheckpoints(runId).map((c) => c.step)).toEqual([2]);
    writeCheckpoint(dir, 6);
    follower.poll();
    follower.poll();
    expect(t.store.listCheckpoints(runId).map((c) => c.step)).toEqual([2, 6]);
  });

  it('picks up the same run again after a restart, and brings in sample batches', () => {
    writeCheckpoint(dir, 2);
    writeFileSync(path.join(dir, 'progress.csv'), `${progressLines.slice(0, 2).join('\n')}\n`);
    follower.poll();
    follower.poll();
    const runId = follower.attachedRun!;

    const again: FollowEvent[] = [];
    const second = new ReferenceFollower({ store: t.store, dataDir: t.dir, dir, flags: FLAGS, onEvent: (e) => again.push(e) });
    writeFileSync(path.join(dir, 'progress.csv'), `${progressLines.slice(0, 4).join('\n')}\n`);
    copyFileSync(path.join(LOGDIR, 'samples_4x8x8x3.npz'), path.join(dir, 'samples_4x8x8x3.npz'));
    second.poll();
    second.poll();
    expect(again[0]).toMatchObject({ type: 'attached', runId, created: false });
    expect(t.store.listRuns()).toHaveLength(1);
    expect(t.store.readSeriesRaw(runId, 'loss').step).toEqual([1, 2, 3]);
    const sets = t.store.listSampleSets({ runId });
    expect(sets).toHaveLength(1);
    expect(sets[0].count).toBe(4);
  });

  it('refuses to follow files of another network into an existing run', () => {
    const other = follower;
    writeCheckpoint(dir, 2);
    other.poll();
    other.poll();
    const runId = other.attachedRun!;
    // The same folder followed into a run with a wider network must be refused, not mixed in.
    const config = { ...t.store.getRun(runId)!.config, model: { ...t.store.getRun(runId)!.config.model, channels: 64 } };
    t.store.createRun({ id: 'wide', name: 'wide', config, status: 'stopped', runDir: path.join(t.dir, 'runs', 'wide') });
    const into = new ReferenceFollower({ store: t.store, dataDir: t.dir, dir, runId: 'wide' });
    into.poll();
    expect(() => into.poll()).toThrow(/is not a checkpoint of run 'wide'.*32 channels/);
  });
});
