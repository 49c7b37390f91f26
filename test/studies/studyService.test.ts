/**
 * Studies through the real run service: tiny studies train their runs in real worker processes into a real
 * SQLite file, run their NLL evaluations, and report verdicts computed from what was stored; a stopped study
 * resumes its unfinished runs from their checkpoints in a new service.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StudySummary } from '../../src-shared/protocol';
import { fmt, median } from '../../src-shared/studies/verdicts';
import { readZip } from '../../src-main/imageio/unzip';
import { startHarness, type Harness } from '../runs/serviceHarness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

function lastStudyEvent(h: Harness, id: string): StudySummary | undefined {
  const e = h.events.filter((x) => x.type === 'study' && x.study.id === id).at(-1);
  return e?.type === 'study' ? e.study : undefined;
}

const waitForStudy = (h: Harness, id: string, statuses: string[], what: string) =>
  h.waitFor(() => {
    const s = lastStudyEvent(h, id);
    return s && statuses.includes(s.status) ? s : undefined;
  }, what, 400_000);

describe('studies in the run service', () => {
  it('runs a tiny importance-sampling study end to end: ordinary runs, NLL per checkpoint, a report from the data, an export', async () => {
    h = await startHarness();
    const created = await h.service.createStudy({ kind: 'importance-sampling', size: 'tiny' });
    expect(created.status).toBe('training');
    expect(created.runs.map((r) => r.key)).toEqual(['vlb-uniform', 'vlb-importance', 'hybrid']);

    const done = await waitForStudy(h, created.id, ['done', 'failed'], 'the study to finish');
    expect(done.error).toBeNull();
    expect(done.status).toBe('done');
    expect(done.progress).toBe(1);

    // Its runs are ordinary runs, trained to their last step with the setting that differs.
    const runs = await h.service.listRuns();
    for (const r of done.runs) {
      const run = runs.find((x) => x.id === r.runId)!;
      expect(run.status).toBe('done');
      expect(run.step).toBe(12);
    }
    const configOf = (key: string) => runs.find((x) => x.id === done.runs.find((r) => r.key === key)!.runId)!.config;
    expect(configOf('vlb-uniform').training.timestepSampler).toBe('uniform');
    expect(configOf('vlb-importance').training.timestepSampler).toBe('loss-second-moment');
    expect(configOf('hybrid').diffusion.objective).toBe('hybrid');

    // One NLL evaluation per checkpoint (steps 6 and 12) of each run, all done.
    const record = h.service.store.studies.get(created.id)!;
    expect(record.evaluations.map((e) => `${e.runKey}@${e.checkpointStep}:${e.status}`).sort()).toEqual(
      ['hybrid@12:done', 'hybrid@6:done', 'vlb-importance@12:done', 'vlb-importance@6:done', 'vlb-uniform@12:done', 'vlb-uniform@6:done'],
    );

    const report = await h.service.studyReport(created.id);
    expect(report.verdicts.map((v) => v.claimId)).toEqual(['is-less-noisy', 'is-better-nll', 'vlb-noisier-gradients']);
    // 12 steps at T = 20 never fill the sampler's history: the verdicts that need it say so.
    expect(report.verdicts[0].outcome).toBe('not enough data');
    expect(report.verdicts[1].outcome).toBe('not enough data');
    // The noise-scale verdict is computed from the stored estimates.
    const gns = (key: string) => h!.service.store.readGns(done.runs.find((r) => r.key === key)!.runId).bSimple;
    const [u, hy] = [gns('vlb-uniform'), gns('hybrid')];
    expect(u.length).toBe(6);
    const above = u.filter((v, i) => v > hy[i]).length;
    expect(report.verdicts[2].line).toContain(`at ${above} of 6 estimates`);
    expect(report.verdicts[2].line).toContain(`median B_simple ${fmt(median(u))} vs ${fmt(median(hy))}`);
    expect(report.verdicts[2].outcome).toBe(above * 2 > 6 && u[5] > hy[5] ? 'holds' : 'does not hold');
    // The NLL chart holds each run's evaluations.
    const nll = report.charts.find((c) => c.id === 'nll')!;
    expect(nll.series.map((s) => s.x)).toEqual([[6, 12], [6, 12], [6, 12]]);
    const evals = h.service.store.listEvaluations(done.runs[0].runId);
    expect(nll.series[0].y).toEqual([6, 12].map((step) => evals.find((e) => e.step === step)!.bpd));

    const exported = await h.service.exportStudy(created.id);
    expect(exported.folder).toBe(path.join(h.dataDir, 'studies', created.id, 'export'));
    expect(exported.files).toEqual(expect.arrayContaining(['report.md', 'report.json', 'verdicts.csv', 'loss.csv', 'nll.csv', 'gns.csv', 'summary.table.csv']));
    const md = readFileSync(path.join(exported.folder, 'report.md'), 'utf8');
    for (const v of report.verdicts) expect(md).toContain(`**${v.outcome}** (${v.figure}): ${v.line}`);
    // Every chart as a PNG the report links to.
    for (const c of report.charts) {
      const png = readFileSync(path.join(exported.folder, `${c.id}.png`));
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(md).toContain(`](${c.id}.png)`);
    }
    const verdictRows = readFileSync(path.join(exported.folder, 'verdicts.csv'), 'utf8').trim().split('\n');
    expect(verdictRows).toHaveLength(1 + 3);
    expect(verdictRows[3]).toMatch(/^vlb-noisier-gradients,Figure 7,(holds|does not hold),"?uniform L_vlb gradient noise scale above L_hybrid/);
    const nllCsv = readFileSync(path.join(exported.folder, 'nll.csv'), 'utf8').trim().split('\n');
    expect(nllCsv[0]).toBe('series,training step,NLL (bits/dim)');
    expect(nllCsv).toHaveLength(1 + 6);
    expect(JSON.parse(readFileSync(path.join(exported.folder, 'report.json'), 'utf8')).verdicts).toEqual(report.verdicts);
    // The web face's download: the same files in one zip.
    const zipped = readZip(await h.service.exportStudyZip(created.id));
    expect(zipped.map((e) => e.name).sort()).toEqual(exported.files);
    expect(zipped.find((e) => e.name === 'report.md')!.data.toString('utf8')).toBe(md);
  }, 600_000);

  it('stops a study mid-way and resumes it in a new service: unfinished runs continue from their checkpoints', async () => {
    h = await startHarness();
    const created = await h.service.createStudy({ kind: 'importance-sampling', size: 'tiny', name: 'stop and go' });
    const first = created.runs[0].runId;
    // Stop once the first run has its step-6 checkpoint.
    await h.waitFor(() => h!.events.some((e) => e.type === 'checkpoint' && e.runId === first && e.checkpoint.step === 6), 'the first checkpoint', 300_000);
    await h.service.stopStudy(created.id);
    const stopped = await waitForStudy(h, created.id, ['stopped'], 'the study to stop');
    expect(stopped.name).toBe('stop and go');
    await h.waitForRunEnd(first, 'the first run to stop');
    const afterStop = await h.service.listRuns();
    expect(afterStop.find((r) => r.id === first)!.status).toMatch(/stopped|done/);
    // The later runs never started: they wait, stopped.
    expect(afterStop.find((r) => r.id === created.runs[2].runId)!.status).toBe('stopped');
    expect(afterStop.find((r) => r.id === created.runs[2].runId)!.step).toBe(0);

    // A new service on the same folder (a restarted studio) lists it as stopped and resumes it.
    const dataDir = h.dataDir;
    await h.service.close(30_000);
    const h2 = await startHarness(dataDir);
    h = h2;
    const listed = (await h2.service.listStudies()).find((s) => s.id === created.id)!;
    expect(listed.status).toBe('stopped');
    const resumed = await h2.service.resumeStudy(created.id);
    expect(resumed.status).toBe('training');
    const done = await waitForStudy(h2, created.id, ['done', 'failed'], 'the resumed study to finish');
    expect(done.error).toBeNull();
    expect(done.status).toBe('done');
    // The first run resumed from a checkpoint: its steps are stored once each, 1…12.
    const steps = h2.service.store.readSeriesRaw(first, 'loss').step;
    expect(steps).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    await expect(h2.service.resumeStudy(created.id)).rejects.toThrow(/is done/);
  }, 900_000);

  it('refuses a bad request with the field and the fix, and an unknown study by id', async () => {
    h = await startHarness();
    await expect(h.service.createStudy({ kind: 'noise' as never })).rejects.toMatchObject({ code: 'bad-request', extra: { field: 'kind' } });
    await expect(h.service.createStudy({ kind: 'noise-schedule', size: 'huge' as never })).rejects.toThrow(/use tiny, quick, full/);
    await expect(h.service.studyReport('nope')).rejects.toMatchObject({ code: 'not-found' });
    expect(await h.service.listStudies()).toEqual([]);
    expect(existsSync(path.join(h.dataDir, 'studies'))).toBe(false);
  });
});
