/**
 * Deleting a study through the real run service on a real SQLite file and data folder: by default only its
 * record and folder go and its runs stay as ordinary runs; withRuns deletes them through deleteRun; a running
 * study is refused; an id that is not a plain name ('..', a path) is refused before anything is touched.
 *
 * The studies here are written straight into the store over runs created (not trained) by the service: what
 * deletion does depends on the record and the runs, not on how they were trained, and this keeps each case to
 * seconds (studyService.test.ts trains real studies; the CLI test deletes one it trained).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../src-shared/config/presets';
import type { StudyRecordStatus } from '../../src-main/store';
import { removeStudyFolder } from '../../src-main/runs/studies/studyFiles';
import { startHarness, type Harness } from '../runs/serviceHarness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

/** A run's folder with a file in it, as training leaves one (createRun without start writes none yet). */
function runFolder(h: Harness, runId: string): void {
  mkdirSync(path.join(h.dataDir, 'runs', runId), { recursive: true });
  writeFileSync(path.join(h.dataDir, 'runs', runId, 'config.json'), '{}');
}

/** A study of two (untrained) runs, as createStudy would store it, with an export folder. */
async function storedStudy(h: Harness, id: string, status: StudyRecordStatus, ownerPid: number | null = null) {
  const config = getPreset('tiny-test').config;
  const runs = [];
  for (const key of ['linear', 'cosine']) {
    const run = await h.service.createRun({ config, id: `${id}-${key}`, name: `${id}: ${key}` });
    runFolder(h, run.id);
    runs.push({ key, runId: run.id });
  }
  h.service.store.studies.create({ id, name: id, kind: 'noise-schedule', size: 'tiny', runs, status, ownerPid });
  const exported = await h.service.exportStudy(id);
  expect(existsSync(path.join(exported.folder, 'report.md'))).toBe(true);
  return runs.map((r) => r.runId);
}

const runIds = async (h: Harness) => (await h.service.listRuns()).map((r) => r.id).sort();

describe('deleteStudy', () => {
  it('deletes the record and its folder and keeps its runs as ordinary runs', async () => {
    h = await startHarness();
    const runs = await storedStudy(h, 'noise-schedule-20261129-190000', 'done');
    const reply = await h.service.deleteStudy('noise-schedule-20261129-190000');
    expect(reply).toEqual({
      studyId: 'noise-schedule-20261129-190000',
      deletedRuns: [],
      keptRuns: runs,
      folder: path.join(h.dataDir, 'studies', 'noise-schedule-20261129-190000'),
    });
    expect(h.service.store.studies.get('noise-schedule-20261129-190000')).toBeNull();
    expect(await h.service.listStudies()).toEqual([]);
    expect(existsSync(reply.folder)).toBe(false);
    expect(await runIds(h)).toEqual([...runs].sort());
    for (const id of runs) expect(existsSync(path.join(h.dataDir, 'runs', id))).toBe(true);
    expect(h.events).toContainEqual({ type: 'studyDeleted', studyId: 'noise-schedule-20261129-190000', deletedRuns: [] });
    await expect(h.service.deleteStudy('noise-schedule-20261129-190000')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('withRuns deletes its runs through deleteRun and leaves every other run alone', async () => {
    h = await startHarness();
    const bystander = await h.service.createRun({ config: getPreset('tiny-test').config, id: 'bystander' });
    runFolder(h, bystander.id);
    const runs = await storedStudy(h, 'study-a', 'stopped');
    const reply = await h.service.deleteStudy('study-a', { withRuns: true });
    expect(reply.deletedRuns).toEqual(runs);
    expect(reply.keptRuns).toEqual([]);
    expect(await runIds(h)).toEqual([bystander.id]);
    expect(readdirSync(path.join(h.dataDir, 'runs'))).toEqual(['bystander']);
    for (const id of runs) expect(h.events).toContainEqual({ type: 'runDeleted', runId: id });
    expect(existsSync(path.join(h.dataDir, 'studies', 'study-a'))).toBe(false);
    expect(existsSync(path.join(h.dataDir, 'studio.db'))).toBe(true);
  });

  it('a run of the study that was already deleted is skipped, not an error', async () => {
    h = await startHarness();
    const runs = await storedStudy(h, 'study-b', 'failed');
    await h.service.deleteRun(runs[0]);
    const reply = await h.service.deleteStudy('study-b', { withRuns: true });
    expect(reply.deletedRuns).toEqual([runs[1]]);
    expect(await runIds(h)).toEqual([]);
  });

  it('refuses a running study (stop it first) and deletes it once stopped', async () => {
    h = await startHarness();
    // Driven by this process (alive), so it stays 'training' rather than showing as interrupted.
    const runs = await storedStudy(h, 'study-c', 'training', process.pid);
    await expect(h.service.deleteStudy('study-c', { withRuns: true })).rejects.toMatchObject({
      code: 'conflict',
      message: "study 'study-c' is running (training): stop it first (Stop in the Studies view), then delete it",
    });
    expect(h.service.store.studies.get('study-c')).not.toBeNull();
    expect(existsSync(path.join(h.dataDir, 'studies', 'study-c', 'export', 'report.md'))).toBe(true);
    expect(await runIds(h)).toEqual([...runs].sort());

    await h.service.stopStudy('study-c');
    expect((await h.service.deleteStudy('study-c', { withRuns: true })).deletedRuns).toEqual(runs);
  });

  it("refuses an id that is not a plain name ('..', a path) before touching anything, even one stored in the database", async () => {
    h = await startHarness();
    await storedStudy(h, 'study-d', 'done');
    // A record with a hostile id, as an old or edited database might hold.
    h.service.store.studies.create({ id: '..', name: 'evil', kind: 'noise-schedule', size: 'tiny', runs: [], status: 'done' });
    for (const id of ['..', '../runs', 'study-d/..', '/tmp', '', '.hidden']) {
      await expect(h.service.deleteStudy(id)).rejects.toMatchObject({ code: 'bad-request', extra: { field: 'studyId' } });
    }
    expect(h.service.store.studies.get('..')).not.toBeNull();
    expect(existsSync(path.join(h.dataDir, 'studio.db'))).toBe(true);
    expect(existsSync(path.join(h.dataDir, 'studies', 'study-d', 'export', 'report.md'))).toBe(true);
    expect(readdirSync(path.join(h.dataDir, 'runs')).sort()).toEqual(['study-d-cosine', 'study-d-linear']);
  });

  it('removeStudyFolder removes only a folder strictly inside <data>/studies', () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'iddpm-study-folder-'));
    mkdirSync(path.join(data, 'studies', 's1', 'export'), { recursive: true });
    writeFileSync(path.join(data, 'keep.txt'), 'x');
    try {
      for (const id of ['..', '.', '', '../..', path.join(data, 'studies')]) expect(removeStudyFolder(data, id)).toBe(false);
      expect(existsSync(path.join(data, 'keep.txt'))).toBe(true);
      expect(existsSync(path.join(data, 'studies', 's1'))).toBe(true);
      expect(removeStudyFolder(data, 's1')).toBe(true);
      expect(existsSync(path.join(data, 'studies', 's1'))).toBe(false);
      expect(existsSync(path.join(data, 'studies'))).toBe(true);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
