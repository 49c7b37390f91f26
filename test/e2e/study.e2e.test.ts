/**
 * End to end through the web face (real `iddpm serve`, real workers, Chromium): a `tiny` noise-schedule study is
 * started from the Studies view, stopped and resumed from its report page, and runs to the end. The report page then
 * shows its runs (linked to their run pages), one verdict line per claim and every chart of the report with data in
 * it; Export writes a folder in the data directory that holds each chart as a PNG (decoded here), its numbers as CSV,
 * report.json and report.md, checked on disk against what the page showed. Delete (keeping its runs) removes the
 * study and its folder while its runs stay in the Runs view.
 * Screenshots land in test-output/screenshots/study-*.png.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { StudyReport } from '../../src-shared/protocol';
import { decodeOwnPng } from '../../src-main/imageio/png';
import { readZip } from '../../src-main/imageio/unzip';
import { CHROMIUM, openStudioPage, reportFailures, useStudio, type Studio } from './studioHarness';

const KIND = 'noise-schedule';

let studio: Studio;
let page: Page;
let dataDir: string;

const view = () => page.getByTestId('view').getAttribute('data-view');
const hash = () => page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash);
const studyStatus = () => page.getByTestId('study-status').getAttribute('data-status');

describe.skipIf(!existsSync(CHROMIUM))('a tiny study from the Studies view to its exported report (iddpm serve + Chromium)', () => {
  useStudio(
    (s) => {
      studio = s;
      page = s.page;
    },
    { dataDir: () => (dataDir = mkdtempSync(path.join(tmpdir(), 'iddpm-e2e-study-'))) },
  );

  it('starts, stops, resumes and finishes a study; its report renders and exports charts, data and Markdown', async () => {
    reportFailures(studio, 'study-failure');
    page.setDefaultTimeout(60_000);
    await openStudioPage(studio);

    // The Studies view lists the built-in studies with their sizes and times.
    await page.getByTestId('nav-studies').click();
    await expect.poll(view).toBe('studies');
    const card = page.getByTestId(`study-kind-${KIND}`);
    await card.waitFor({ state: 'visible' });
    expect(await card.textContent()).toMatch(/tiny · (under a minute|about \d+ min)/);
    for (const kind of ['sampling-steps', 'importance-sampling']) await page.getByTestId(`study-kind-${kind}`).waitFor({ state: 'visible' });
    await studio.shot('study-list');

    // Start it at size tiny: the report page opens on its own URL.
    await page.getByTestId(`study-size-${KIND}-tiny`).check();
    await page.getByTestId(`study-start-${KIND}`).click();
    await expect.poll(view).toBe('study');
    const studyId = decodeURIComponent((await hash()).slice('#/studies/'.length));
    expect(studyId).not.toBe('');
    await expect.poll(() => page.getByTestId('study-phase').textContent()).toContain('size tiny');

    // Stop at once (its first run is still starting its worker), then resume: it must still finish. Resume waits
    // until no run of the study is still running (a run checkpoints before it stops).
    await page.getByTestId('study-stop-report').click();
    await expect.poll(studyStatus, { timeout: 120_000 }).toBe('stopped');
    await expect.poll(() => page.getByTestId('study-resume-report').isEnabled(), { timeout: 120_000 }).toBe(true);
    for (const key of ['linear', 'cosine']) expect(await page.getByTestId(`study-run-status-${key}`).getAttribute('data-status')).not.toBe('running');
    await page.getByTestId('study-resume-report').click();
    await expect.poll(studyStatus, { timeout: 60_000 }).toMatch(/^(training|evaluating|done)$/);
    await expect.poll(studyStatus, { timeout: 1_200_000, interval: 2_000 }).toMatch(/^(done|failed|stopped|interrupted)$/);
    expect(await page.getByTestId('study-error').count(), (await page.getByTestId('study-error').allTextContents()).join()).toBe(0);
    expect(await studyStatus()).toBe('done');
    await studio.shot('study-report');


    // Runs: each links to its run page.
    const runLinks = page.getByTestId('study-runs').locator('a');
    expect(await runLinks.count()).toBe(2);
    const firstRun = await runLinks.first().getAttribute('href');
    await runLinks.first().click();
    await expect.poll(view).toBe('run-detail');
    expect(await hash()).toBe(firstRun);
    await page.goBack();
    await expect.poll(view).toBe('study');

    // One verdict line per claim, each with an outcome computed from the data.
    const verdicts = page.getByTestId('study-verdicts').locator('li');
    await expect.poll(() => verdicts.count()).toBeGreaterThan(0);
    const outcomes = await verdicts.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-outcome')));
    for (const o of outcomes) expect(o).toMatch(/^(holds|does not hold|not enough data)$/);
    const lines = await verdicts.locator('.line').allTextContents();
    expect(lines.length).toBe(outcomes.length);
    for (const l of lines) expect(l.trim().length).toBeGreaterThan(10);

    // Charts: each report chart is drawn, and those with data plot points.
    const charts = page.locator('[data-testid^="study-chart-"][data-series]');
    const chartIds = (await charts.evaluateAll((fs) => fs.map((f) => f.getAttribute('data-testid')!.slice('study-chart-'.length)))) as string[];
    expect(chartIds.length).toBeGreaterThanOrEqual(3);
    const plottedPoints = new Map<string, number>();
    for (const id of chartIds) plottedPoints.set(id, Number(await page.getByTestId(`study-chart-canvas-${id}`).getAttribute('data-points')));
    expect([...plottedPoints.values()].filter((n) => n > 0).length, 'charts with points').toBeGreaterThanOrEqual(2);

    // Export: a folder in the data directory with a PNG and a CSV per chart, report.json and report.md.
    await page.getByTestId('study-export').click();
    const folder = (await page.getByTestId('study-export-folder').textContent({ timeout: 60_000 }))!.trim();
    expect(path.resolve(folder).startsWith(path.resolve(dataDir) + path.sep), `${folder} inside ${dataDir}`).toBe(true);
    const files = readdirSync(folder);
    for (const id of chartIds) {
      expect(files, `files of chart ${id}`).toEqual(expect.arrayContaining([`${id}.png`, `${id}.csv`]));
      const png = decodeOwnPng(readFileSync(path.join(folder, `${id}.png`)));
      expect(png.width).toBeGreaterThanOrEqual(600);
      expect(png.height).toBeGreaterThanOrEqual(300);
      const csv = readFileSync(path.join(folder, `${id}.csv`), 'utf8').trim().split('\n');
      expect(csv[0].split(',')[0]).toBe('series');
    }
    expect(files).toEqual(expect.arrayContaining(['report.json', 'report.md']));
    const json = JSON.parse(readFileSync(path.join(folder, 'report.json'), 'utf8')) as StudyReport;
    expect(json.study.id).toBe(studyId);
    expect(json.charts.map((c) => c.id).sort()).toEqual([...chartIds].sort());
    // Every chart the report has data for is plotted on the page, and no chart without data pretends to be.
    for (const c of json.charts) {
      const hasData = c.series.some((x) => x.x.length > 0);
      expect(plottedPoints.get(c.id)! > 0, `chart ${c.id} plotted`).toBe(hasData);
    }
    expect(json.verdicts.map((v) => v.line.trim()).sort()).toEqual(lines.map((l) => l.trim()).sort());
    const md = readFileSync(path.join(folder, 'report.md'), 'utf8');
    // The Markdown states the verdict lines the page shows, and shows the PNG charts.
    for (const l of lines) expect(md).toContain(l.trim());
    for (const id of chartIds) expect(md).toContain(`(${id}.png)`);
    await studio.shot('study-exported');

    // The web face offers the same folder as a .zip download.
    const href = await page.getByTestId('study-export-zip').getAttribute('href');
    const zip = await page.request.get(new URL(href!, page.url()).toString());
    expect(zip.status(), href!).toBe(200);
    const entries = readZip(await zip.body());
    expect(entries.map((e) => e.name).sort()).toEqual([...files].sort());
    expect(entries.find((e) => e.name === 'report.md')!.data.toString('utf8')).toBe(md);

    // The study is listed as done in the Studies view, with its runs.
    await page.getByTestId('nav-studies').click();
    await expect.poll(() => page.getByTestId(`study-status-${studyId}`).getAttribute('data-status')).toBe('done');
    expect(await page.getByTestId(`study-row-${studyId}`).locator('a[href^="#/runs/"]').count()).toBe(2);
    await studio.shot('study-list-done');

    // Delete asks what to do with its runs; keeping them deletes only the study and its folder.
    const runIds = json.study.runs.map((r) => r.runId);
    await page.getByTestId(`study-delete-${studyId}`).click();
    await page.getByTestId(`study-delete-confirm-${studyId}`).waitFor({ state: 'visible' });
    await studio.shot('study-delete-confirm');
    await page.getByTestId(`study-delete-keep-${studyId}`).click();
    await page.getByTestId(`study-row-${studyId}`).waitFor({ state: 'detached' });
    expect(existsSync(path.join(dataDir, 'studies', studyId))).toBe(false);
    await page.getByTestId('nav-runs').click();
    await expect.poll(view).toBe('runs');
    for (const id of runIds) await page.getByTestId(`run-row-${id}`).waitFor({ state: 'visible' });
    expect(studio.pageErrors, 'uncaught errors in the page').toEqual([]);
  }, 1_800_000);
});
