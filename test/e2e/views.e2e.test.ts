/**
 * End to end through the web face (real `iddpm serve`, real workers, Chromium): every place has a URL that survives a
 * reload and Back/Forward and can be opened directly; a run created without starting says so and offers Start; a
 * sampling job queued behind a training run says what it waits for; a long run name keeps the Runs table in its box;
 * a gallery image opens large with its settings. Screenshots land in test-output/screenshots/views-*.png.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, openStudioPage, reportFailures, useStudio, type Studio } from './studioHarness';

let studio: Studio;
let page: Page;

const view = () => page.getByTestId('view').getAttribute('data-view');
const hash = () => page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash);

describe.skipIf(!existsSync(CHROMIUM))('views end to end: routes, lifecycle, queued jobs (iddpm serve + Chromium)', () => {
  useStudio((s) => {
    studio = s;
    page = s.page;
  });

  it('keeps the place across reloads, Back and Forward, and explains a queued job', async () => {
    reportFailures(studio, 'views-failure');
    page.setDefaultTimeout(60_000);
    await openStudioPage(studio);
    expect(await hash()).toBe('#/runs');

    // A run created without starting, with a long name: its page says it has not started and offers Start.
    const longName = `a-very-long-run-name-without-any-spaces-${'x'.repeat(90)}`;
    await page.getByTestId('nav-new-run').click();
    expect(await hash()).toBe('#/new-run');
    await page.getByTestId('preset-select').selectOption('tiny-test');
    // The form speaks its own words: the label, and no advice about quotes nobody typed.
    await page.getByTestId('field-training.lr').fill('abc');
    await expect.poll(() => page.getByTestId('problem-training.lr').textContent()).toBe('Learning rate must be a number; “abc” is not one.');
    await page.getByTestId('field-training.lr').fill('0.001');
    // A dataset folder that does not exist is refused when the run is created, beside the Path field.
    await page.getByTestId('field-dataset.kind').selectOption('folder');
    await page.getByTestId('field-dataset.path').fill('/no/such/images');
    await page.getByTestId('create').click();
    await expect.poll(() => page.getByTestId('problem-dataset.path').textContent()).toBe('Path /no/such/images does not exist: choose an existing folder.');
    expect(await hash()).toBe('#/new-run');
    await studio.shot('views-new-run-problems');
    await page.getByTestId('preset-select').selectOption('tiny-test');
    await page.getByTestId('run-name').fill(longName);
    await page.getByTestId('create').click();
    await expect.poll(view).toBe('run-detail');
    const idleId = decodeURIComponent((await hash()).slice('#/runs/'.length));
    await page.getByTestId('not-started').waitFor({ state: 'visible' });
    expect(await page.getByTestId(`run-status-${idleId}`).textContent()).toBe('not started');
    await page.getByTestId(`run-start-${idleId}`).waitFor({ state: 'visible' });
    expect(await page.getByTestId(`run-resume-${idleId}`).count()).toBe(0);
    await studio.shot('views-not-started');

    // A training run that keeps the device busy.
    await page.getByTestId('nav-new-run').click();
    await page.getByTestId('preset-select').selectOption('tiny-test');
    await page.getByTestId('run-name').fill('busy trainer');
    await page.getByTestId('field-training.maxSteps').fill('100000');
    await page.getByTestId('create-and-start').click();
    await expect.poll(async () => (await hash()).startsWith('#/runs/') && (await hash()) !== `#/runs/${idleId}`).toBe(true);
    const runId = decodeURIComponent((await hash()).slice('#/runs/'.length));
    await expect.poll(async () => Number(await page.getByTestId('run-step').textContent()), { timeout: 180_000, interval: 500 }).toBeGreaterThanOrEqual(10);

    // Reload on the run's page: the same run, still live.
    await page.reload();
    await expect.poll(view).toBe('run-detail');
    await expect.poll(() => page.locator('h2').first().textContent()).toBe('busy trainer');
    await page.getByTestId(`run-pause-${runId}`).waitFor({ state: 'visible' });
    await studio.shot('views-run-detail');

    // Sample from the run's page: the URL names the run, and a reload keeps it chosen.
    await page.getByTestId('detail-sample').click();
    await expect.poll(hash).toBe(`#/sample?run=${encodeURIComponent(runId)}`);
    await page.reload();
    await expect.poll(view).toBe('sample');
    await expect.poll(() => page.getByTestId('sample-run').inputValue()).toBe(runId);

    // The job waits for the training run and says so, by the run's name.
    await page.getByTestId('sample-sampler').selectOption('ddim');
    await page.getByTestId('sample-steps').fill('5');
    await page.getByTestId('sample-count').fill('2000');
    await expect.poll(() => page.getByTestId('sample-problem').textContent()).toMatch(/Count must be ≤ 1024/);
    await page.getByTestId('sample-count').fill('4');
    await expect.poll(() => page.getByTestId('sample-cost').textContent()).toMatch(/^4 images × 5 steps = 20 network passes/);
    await page.getByTestId('sample-start').click();
    await expect.poll(() => page.getByTestId('job-status').first().getAttribute('data-status')).toBe('queued');
    await expect.poll(() => page.getByTestId('job-waiting').textContent()).toBe('waiting for training run “busy trainer”: one job per device');
    await studio.shot('views-sample-queued');

    // Back: the run's page, then New run; Forward: the run again, then Sample on it.
    await page.goBack();
    await expect.poll(hash).toBe(`#/runs/${encodeURIComponent(runId)}`);
    await expect.poll(view).toBe('run-detail');
    await page.goBack();
    await expect.poll(view).toBe('new-run');
    await page.goForward();
    await expect.poll(view).toBe('run-detail');
    await page.goForward();
    await expect.poll(view).toBe('sample');
    await expect.poll(() => page.getByTestId('sample-run').inputValue()).toBe(runId);

    // A link opens a run directly, in a fresh tab.
    const linked = await studio.context.newPage();
    await linked.goto(`${studio.url}#/runs/${encodeURIComponent(idleId)}`);
    await linked.getByTestId('not-started').waitFor({ state: 'visible' });
    await linked.close();

    // Stop the training run from its page; the queued job then runs and lands in the gallery.
    await page.goBack();
    await expect.poll(view).toBe('run-detail');
    await page.getByTestId(`run-stop-${runId}`).click();
    await expect.poll(() => page.getByTestId(`run-status-${runId}`).getAttribute('data-status'), { timeout: 60_000 }).toMatch(/stopped|paused|done/);
    await page.getByTestId('nav-gallery').click();
    expect(await hash()).toBe('#/gallery');
    await page.getByTestId('gallery-kind').selectOption('samples');
    const set = page.locator('[data-testid^="gallery-set-"]').filter({ has: page.getByTestId('gallery-image') }).first();
    await set.waitFor({ state: 'visible', timeout: 180_000 });
    await expect.poll(() => set.getByTestId('gallery-image').count()).toBe(4);
    // One grid or the singles, never both.
    expect(await set.getByTestId('grid-image').count()).toBe(0);
    await set.getByTestId('gallery-image').nth(1).click();
    await page.getByTestId('image-viewer').waitFor({ state: 'visible' });
    const settings = (await page.getByTestId('viewer-settings').textContent()) ?? '';
    expect(settings).toContain('2 of 4');
    expect(settings).toMatch(/ddim, 5 steps/);
    await studio.shot('views-gallery-viewer');
    await page.getByTestId('viewer-close').click();
    await page.getByTestId('image-viewer').waitFor({ state: 'detached' });

    // The Runs table: the backend once for the machine, the long name wrapped inside the table's box.
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('machine-backend').waitFor({ state: 'visible' });
    expect(await page.getByTestId('machine-backend').textContent()).toMatch(/^Backend on this machine: \S+/);
    expect(await page.getByTestId(`run-backend-${runId}`).count(), 'no backend line repeated on the row').toBe(0);
    const fits = await page.locator('.table-wrap').evaluate((el) => el.scrollWidth <= el.clientWidth + 1);
    expect(fits, 'the Runs table fits its box with a long run name').toBe(true);
    await studio.shot('views-runs');

    // Evaluate shows its cost before starting.
    await page.getByTestId('nav-evaluate').click();
    await expect.poll(() => page.getByTestId('eval-cost').textContent()).toMatch(/images × T = [\d,]+ = [\d,]+ network passes/);
    await studio.shot('views-evaluate');

    expect(studio.pageErrors, 'uncaught errors in the page').toEqual([]);
  }, 900_000);
});
