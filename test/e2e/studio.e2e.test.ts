/**
 * End to end through the web face: a real `iddpm serve --data <tmp>` child process (real run service,
 * store and workers), the built renderer, and Debian's Chromium driven by playwright-core.
 *
 * Creates a run from the 'tiny-test' preset in the New run view, watches the loss and VLB charts gain
 * points, stops the run, samples 4 images with 10 respaced ancestral steps, finds them in the gallery,
 * downloads the export zip and checks each PNG carries its settings (tEXt 'iddpm:settings'). A screenshot
 * of every view lands in test-output/screenshots/.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFailed } from 'vitest';
import { readPngText } from '../../src-main/imageio/png';
import { readZip } from '../../src-main/imageio/unzip';
import { CHROMIUM, openStudioPage, reportFailures, root, useStudio, type Studio } from './studioHarness';

let studio: Studio;
let url = '';
let page: Page;

const shot = (name: string) => studio.shot(name);

async function nav(view: 'runs' | 'new-run' | 'sample' | 'gallery' | 'evaluate'): Promise<void> {
  await page.getByTestId(`nav-${view}`).click();
  await expect.poll(() => page.getByTestId('view').getAttribute('data-view')).toBe(view);
}

async function points(testid: string): Promise<number> {
  const v = await page.getByTestId(testid).first().getAttribute('data-points');
  return v === null ? 0 : Number(v);
}

/** The part of HTMLImageElement we read (the node tsconfig has no DOM types). */
interface LoadedImage {
  complete: boolean;
  naturalWidth: number;
}

const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium)('studio end to end (iddpm serve + Chromium)', () => {
  useStudio((s) => {
    studio = s;
    ({ url, page } = s);
    page.on('console', (m) => {
      if (m.type() === 'error') console.warn(`[page console] ${m.text()}`);
    });
  });

  it('refuses the page without the token', async () => {
    const bare = url.replace(/\?token=.*$/, '');
    const r = await fetch(bare);
    expect(r.status).toBe(401);
  });

  it('trains, stops, samples, shows and exports a tiny run', async () => {
    reportFailures(studio, 'failure', 8000);
    onTestFailed(async () => {
      const reason = await page.locator('[data-testid^="run-row-"]').first().textContent().catch(() => null);
      if (reason) console.error(`--- first run row ---\n${reason}`);
    });
    page.setDefaultTimeout(60_000);
    await openStudioPage(studio);
    await shot('runs-empty');

    // New run from the 'tiny-test' preset, with enough steps that it is still running when we stop it.
    await nav('new-run');
    await page.getByTestId('preset-select').selectOption('tiny-test');
    // The machine's backends, checked by a worker: no GPU here, so auto trains on wasm (+ native kernels).
    await expect.poll(() => page.getByTestId('backends').textContent(), { timeout: 60_000 }).toMatch(/wasm \(auto\) ← this run/);
    await expect.poll(() => page.getByTestId('backends').textContent()).toMatch(/✗ tensorflow-gpu/);
    const maxSteps = page.getByTestId('field-training.maxSteps');
    // A run shorter than its preview interval (5) is warned about, not refused.
    await maxSteps.fill('3');
    await expect.poll(() => page.getByTestId('warning-intervals.previewEvery').textContent()).toMatch(/previews every 5 steps, but the run stops after 3/);
    await maxSteps.fill('100000');
    await expect.poll(() => page.locator('[data-testid^="warning-"]').count()).toBe(0);
    await expect.poll(() => page.locator('[data-testid^="problem-"]').count()).toBe(0);
    await shot('new-run');
    await page.getByTestId('create-and-start').click();

    // Run detail: the loss chart and the per-t VLB chart fill in as the worker trains.
    await expect.poll(() => page.getByTestId('view').getAttribute('data-view'), { timeout: 30_000 }).toBe('run-detail');
    await expect.poll(() => points('loss-chart'), { timeout: 180_000, interval: 500 }).toBeGreaterThan(0);
    const firstLoss = await points('loss-chart');
    await expect.poll(() => points('loss-chart'), { timeout: 180_000, interval: 500 }).toBeGreaterThan(firstLoss);
    await expect.poll(() => points('vlb-chart'), { timeout: 180_000, interval: 500 }).toBeGreaterThan(0);
    // Past the first checkpoints (every 5 steps in tiny-test), so there is something to sample from.
    await expect.poll(async () => Number(await page.getByTestId('run-step').textContent()), { timeout: 180_000, interval: 500 }).toBeGreaterThanOrEqual(10);
    // The noise scale chart explains itself from the run's config (tiny-test: batch 2 split in 2, every 2 steps).
    expect(await page.getByTestId('gns-caption').textContent()).toMatch(/every 2 steps .*B_big = 2.*2 chunks of 1 \(B_small = 1\)/);
    await shot('run-detail');

    // Stop it from the Runs view.
    await nav('runs');
    const row = page.locator('[data-testid^="run-row-"]').first();
    const runId = (await row.getAttribute('data-testid'))!.slice('run-row-'.length);
    const status = () => page.getByTestId(`run-status-${runId}`).getAttribute('data-status');
    await expect.poll(status).toBe('running');
    await page.getByTestId(`run-stop-${runId}`).click();
    await expect.poll(status, { timeout: 60_000 }).toMatch(/stopped|done|paused/);
    await page.getByTestId(`run-resume-${runId}`).waitFor({ state: 'visible' });
    await shot('runs');

    // Sample 4 images with 10 respaced ancestral steps.
    await nav('sample');
    await page.getByTestId('sample-run').selectOption(runId);
    // The default weights and why: tiny-test warms its EMA up, so the EMA holds almost no initial weights.
    await expect.poll(() => page.getByTestId('sample-weights-why').textContent(), { timeout: 30_000 }).toMatch(/Default: EMA 0\.9 \(holds <0\.1% of the initial weights at step \d+\)/);
    await page.getByTestId('sample-sampler').selectOption('ancestral');
    await page.getByTestId('sample-steps').fill('10');
    await page.getByTestId('sample-count').fill('4');
    await page.getByTestId('sample-seed').fill('7');
    await page.getByTestId('sample-start').click();
    await expect
      .poll(() => page.getByTestId('job-status').first().getAttribute('data-status'), { timeout: 180_000, interval: 500 })
      .toMatch(/^(done|failed|cancelled)$/);
    expect(await page.getByTestId('job-status').first().getAttribute('data-status')).toBe('done');
    await shot('sample');

    // The gallery shows the set; its images load through /files (token in the query).
    await nav('gallery');
    const sets = page.locator('[data-testid^="gallery-set-"]');
    await sets.first().waitFor({ state: 'visible' });
    const setIds = (await sets.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!)))
      .map((t) => Number(t.slice('gallery-set-'.length)))
      .filter((n) => Number.isInteger(n));
    let setId = -1;
    for (const id of setIds.sort((a, b) => b - a)) {
      if ((await page.getByTestId(`gallery-set-${id}`).getByTestId('gallery-image').count()) === 4) {
        setId = id;
        break;
      }
    }
    expect(setId, `a gallery set with 4 images among ${setIds.join(', ')}`).toBeGreaterThanOrEqual(0);
    const set = page.getByTestId(`gallery-set-${setId}`);
    await expect
      .poll(() => set.getByTestId('gallery-image').evaluateAll((imgs) => (imgs as unknown as LoadedImage[]).filter((i) => i.complete && i.naturalWidth > 0).length), { timeout: 30_000 })
      .toBe(4);
    await shot('gallery');

    // Export: the zip holds the PNGs (each with its settings in a tEXt chunk) and a manifest.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`export-set-${setId}`).click()]);
    const zipPath = await download.path();
    const entries = readZip(readFileSync(zipPath));
    const names = entries.map((e) => e.name);
    expect(names).toContain('manifest.json');
    const manifest = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString('utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ steps: 10, count: 4, seed: 7 });
    const singles = entries.filter((e) => e.name.endsWith('.png') && e.name !== 'grid.png');
    expect(singles).toHaveLength(4);
    for (const png of singles) {
      expect(png.data.subarray(1, 4).toString('latin1')).toBe('PNG');
      const text = readPngText(png.data);
      expect(text['iddpm:settings'], `${png.name} carries iddpm:settings`).toBeTruthy();
      const settings = JSON.parse(text['iddpm:settings']) as Record<string, unknown>;
      expect(settings).toMatchObject({ sampler: 'ancestral', steps: 10, seed: 7, count: 4 });
      expect(JSON.stringify(settings)).toContain(runId);
    }

    await nav('evaluate');
    await shot('evaluate');
    await nav('new-run');
    await shot('new-run-final');

    expect(studio.pageErrors, 'uncaught errors in the page').toEqual([]);
  }, 900_000);

  it('imports a reference run from the Runs view', async () => {
    reportFailures(studio, 'cluster-failure', 8000);
    page.setDefaultTimeout(60_000);
    if (!page.url().startsWith(url.replace(/\?.*$/, ''))) await openStudioPage(studio);
    await nav('runs');
    // Count only once the view has the service's list: right after navigating, the rows are still loading.
    await page.locator('[data-testid="runs-table"][data-loaded="true"]').waitFor();
    const rowsBefore = await page.locator('[data-testid^="run-row-"]').count();
    await page.getByTestId('cluster').click();
    await page.getByTestId('import-path').fill(path.join(root, 'test', 'fixtures', 'reference', 'logdir'));
    // First without the flags a checkpoint cannot hold: the error names them.
    await page.getByTestId('import-go').click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 60_000 }).toMatch(/num_heads, diffusion_steps, noise_schedule/);
    await page.getByTestId('import-flags').fill('--num_heads 2 --diffusion_steps 50 --noise_schedule cosine');
    await page.getByTestId('import-go').click();
    await expect.poll(() => page.getByTestId('cluster-notes').textContent(), { timeout: 60_000 }).toMatch(/Imported as imported logdir \(step 4\)/);
    await expect.poll(() => page.locator('[data-testid^="run-row-"]').count()).toBe(rowsBefore + 1);
    await shot('runs-cluster');
    expect(studio.pageErrors, 'uncaught errors in the page').toEqual([]);
  }, 300_000);
});
