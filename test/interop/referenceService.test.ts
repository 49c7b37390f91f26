/**
 * The reference interop through the run service (what the UI and the web face call): import answers with
 * the run and notes, following streams rows and checkpoints as live events, export names what is lost,
 * and bad input is a bad-request naming the problem.
 */
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiFailure } from '../../src-main/runs/apiFailure';
import { startHarness, type Harness } from '../runs/serviceHarness';

const LOGDIR = path.join(__dirname, '..', 'fixtures', 'reference', 'logdir');
const FLAGS = '--num_heads 2 --diffusion_steps 50 --noise_schedule cosine';

describe('run service: reference interop', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.cleanup());

  it('imports a log directory and announces the run', async () => {
    const r = await h.service.importReferenceRun({ path: LOGDIR, flags: FLAGS, name: 'cluster run' });
    expect(r.run).toMatchObject({ name: 'cluster run', step: 4, status: 'stopped', lastCheckpointStep: 4 });
    expect(r.notes.some((n) => n.startsWith('image_size 8'))).toBe(true);
    await h.waitFor(() => h.events.find((e) => e.type === 'run' && e.run.id === r.run.id), 'the run event');
    expect((await h.service.listRuns()).map((x) => x.id)).toEqual([r.run.id]);
  });

  it('refuses bad flags and missing settings as bad requests that name them', async () => {
    await expect(h.service.importReferenceRun({ path: LOGDIR, flags: '--num_heads' })).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/--num_heads has no value/) });
    const err = await h.service.importReferenceRun({ path: LOGDIR }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiFailure);
    expect(err.message).toMatch(/num_heads, diffusion_steps, noise_schedule: not stored in a checkpoint/);
  });

  it('follows a folder: rows and checkpoints arrive as live events; stopping leaves the run', async () => {
    const dir = path.join(h.dataDir, 'cluster');
    mkdirSync(dir);
    const lines = readFileSync(path.join(LOGDIR, 'progress.csv'), 'utf8').split('\n').filter(Boolean);
    writeFileSync(path.join(dir, 'progress.csv'), `${lines.slice(0, 2).join('\n')}\n`);
    for (const f of ['model000004.pt', 'ema_0.9999_000004.pt', 'opt000004.pt']) copyFileSync(path.join(LOGDIR, f), path.join(dir, f));
    const status = await h.service.followReferenceRun({ dir, flags: `${FLAGS} --image_size 8`, intervalSec: 0.05 });
    expect(status.following).toBe(true);
    const followed = await h.waitFor(() => h.events.find((e) => e.type === 'checkpoint'), 'the checkpoint event');
    expect(followed).toMatchObject({ type: 'checkpoint', checkpoint: expect.objectContaining({ step: 4 }) });
    appendFileSync(path.join(dir, 'progress.csv'), `${lines.slice(2).join('\n')}\n`);
    const streamed = () => h.events.flatMap((e) => (e.type === 'metrics' ? e.rows.map((r) => r.step) : []));
    await h.waitFor(() => streamed().includes(4), 'the rows written after following began');
    expect(streamed()).toEqual([1, 2, 3, 4]);
    const [listed] = await h.service.listReferenceFollows();
    expect(listed).toMatchObject({ dir, following: true, runId: expect.any(String) });
    const stopped = await h.service.stopFollowingReferenceRun(dir);
    expect(stopped.following).toBe(false);
    const run = (await h.service.listRuns())[0];
    expect(run).toMatchObject({ id: listed.runId, status: 'stopped', lastCheckpointStep: 4 });
  });

  it('exports a run for the reference and lists what does not carry over', async () => {
    const { run } = await h.service.importReferenceRun({ path: LOGDIR, flags: FLAGS });
    const r = await h.service.exportForReference({ runId: run.id, outDir: path.join(h.dataDir, 'export'), processes: 4, includeImages: false });
    expect(r.step).toBe(4);
    expect(r.files.map((f) => path.basename(f))).toContain('launch.sh');
    expect(r.notes.join('\n')).toMatch(/model\.imageSize 8: the reference supports 32, 64, 256/);
    await expect(h.service.exportForReference({ runId: 'nope', outDir: '/tmp/x' })).rejects.toMatchObject({ code: 'not-found' });
  });
});
