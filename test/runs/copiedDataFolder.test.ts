/**
 * A data folder is movable and copyable: resuming a run in a copy writes into the copy and leaves the
 * original folder exactly as it was (names, sizes, modification times).
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import { lastRunEvent, startHarness, type Harness } from './serviceHarness';

/** Every file under `dir` with its size and mtime, sorted. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        out.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.cleanup();
});

describe('a copied data folder', () => {
  it('resumes in the copy: new checkpoints land there and the original is untouched', async () => {
    const base = getPreset('tiny-test').config;
    const config = { ...base, training: { ...base.training, maxSteps: 30 }, intervals: { ...base.intervals, checkpointEvery: 5, previewEvery: 5, evalEvery: 0, gnsEvery: 0 } };
    const original = await startHarness();
    harnesses.push(original);
    const run = await original.service.createRun({ config, id: 'movable', start: true });
    await original.waitFor(() => original.events.some((e) => e.type === 'checkpoint' && e.runId === run.id), 'the first checkpoint');
    await original.service.pauseRun(run.id);
    const paused = await original.waitForRunEnd(run.id, 'the run to pause');
    expect(paused.status).toBe('paused');
    expect(paused.step).toBeLessThan(30);
    await original.service.close();
    const before = listing(original.dataDir);
    expect(before.some((f) => f.startsWith('studio.db '))).toBe(true);

    const copyDir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-copy-'));
    rmSync(copyDir, { recursive: true });
    cpSync(original.dataDir, copyDir, { recursive: true, preserveTimestamps: true });
    const copy = await startHarness(copyDir);
    harnesses.push(copy);
    const inCopy = (await copy.service.listRuns())[0];
    expect(inCopy.lastCheckpointStep).toBe(paused.lastCheckpointStep);
    await copy.service.resumeRun(run.id);
    const end = await copy.waitFor(() => {
      const r = lastRunEvent(copy.events, run.id);
      return r && r.status !== 'queued' && r.status !== 'running' ? r : undefined;
    }, 'the resumed run to end');
    expect(end.status, end.reason ?? '').toBe('done');

    // The new checkpoints and previews are the copy's, and the service reports them there.
    const copyCheckpoints = readdirSync(path.join(copyDir, 'runs', run.id, 'checkpoints'));
    expect(copyCheckpoints).toContain('step-00000030.safetensors');
    const detail = await copy.service.runDetail(run.id, 100);
    for (const c of detail.checkpoints) expect(c.path.startsWith(copyDir + path.sep), c.path).toBe(true);
    expect(detail.previews.every((p) => p.gridUrl !== null)).toBe(true);
    // The original folder is exactly as it was.
    expect(listing(original.dataDir)).toEqual(before);
    expect(readdirSync(path.join(original.dataDir, 'runs', run.id, 'checkpoints'))).not.toContain('step-00000030.safetensors');
  });
});
