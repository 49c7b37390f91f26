/**
 * The Evaluate view's Sample quality section end to end (real `iddpm serve`, real workers, Chromium): a sweep
 * over sampling steps runs from the form, its results land in the table under the caveat with the classifier's
 * accuracy, and its chart draws one line per sampler; a bad sweep is refused beside the button; a running job
 * shows its phase and cancels; a dataset without labels offers NLL only. The classifier is trained once with
 * `iddpm eval --metrics` before the studio starts (the slow part, about a minute). Screenshots:
 * test-output/screenshots/quality-*.png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, openStudioPage, reportFailures, root, useStudio, type Studio } from './studioHarness';

let studio: Studio;
let page: Page;

function iddpm(dataDir: string, ...args: string[]): void {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'iddpm.mjs'), ...args, '--data', dataDir], { encoding: 'utf8', timeout: 400_000 });
  if (r.status !== 0) throw new Error(`iddpm ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
}

const goTo = (hash: string) => page.evaluate((h) => ((globalThis as unknown as { location: { hash: string } }).location.hash = h), hash);

/** A labelled run (bundled digits) with a checkpoint and its classifier trained and cached, and a run without labels. */
function prepareData(): string {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'iddpm-e2e-quality-'));
  iddpm(dataDir, 'train', '--preset', 'tiny-test', '--steps', '2', '--run-id', 'digits');
  iddpm(dataDir, 'eval', 'digits', '--metrics', 'fid', '--count', '4', '--steps', '2', '--images', '16');
  // A run on an image folder whose file names carry no class.
  const folder = path.join(dataDir, 'unlabelled');
  mkdirSync(folder);
  for (let i = 0; i < 12; i++) {
    const p = new PNG({ width: 16, height: 16 });
    p.data.fill(i * 20);
    writeFileSync(path.join(folder, `img${i}.png`), PNG.sync.write(p));
  }
  iddpm(dataDir, 'train', '--preset', 'tiny-test', '--steps', '1', '--run-id', 'plain', '--dataset', 'folder', '--dataset-path', folder);
  return dataDir;
}

describe.skipIf(!existsSync(CHROMIUM))('Evaluate: sample quality end to end (iddpm serve + Chromium)', () => {
  useStudio(
    (s) => {
      studio = s;
      page = s.page;
    },
    { dataDir: prepareData, timeoutMs: 600_000 },
  );

  it('runs a sweep from the form, tables it under the caveat, charts it, cancels a job, and offers NLL only without labels', async () => {
    reportFailures(studio, 'quality-failure');
    page.setDefaultTimeout(60_000);
    await openStudioPage(studio);
    await goTo('#/evaluate?run=digits');
    const section = page.getByTestId('quality-section');
    await section.waitFor({ state: 'visible' });
    const accuracy = (await page.getByTestId('quality-classifier-accuracy').textContent())!;
    expect(accuracy).toMatch(/^\d+(\.\d+)?%$/);

    // FID and KID of 8 samples, swept over K = 5 and the full chain T = 50.
    await page.getByTestId('quality-metric-pr').uncheck();
    await page.getByTestId('quality-metric-is').uncheck();
    await page.getByTestId('quality-count').fill('8');
    await page.getByTestId('quality-mode-sweep').check();
    await page.getByTestId('quality-sweep-steps').fill('5,60');
    await expect.poll(() => page.getByTestId('quality-problem').textContent()).toMatch(/^Sweep steps: 60 is more than the model's diffusion steps T = 50/);
    expect(await page.getByTestId('quality-start').isDisabled()).toBe(true);
    await page.getByTestId('quality-sweep-steps').fill('5');
    await expect.poll(() => page.getByTestId('quality-cost').textContent()).toMatch(/^8 images × 4 points, 110 steps in all = 880 network passes/);
    await studio.shot('quality-form');
    await page.getByTestId('quality-start').click();
    await page.getByTestId('quality-job').waitFor({ state: 'visible' });
    await expect.poll(() => page.getByTestId('quality-results').locator('tbody tr').count(), { timeout: 300_000, interval: 1000 }).toBe(4);
    expect(await page.getByTestId('quality-caveat').textContent()).toMatch(/^Every number: measured on the studio's MNIST \(bundled digits\) classifier features, not Inception features: not Inception FID\/IS, not comparable with published values$/);
    for (const cell of await page.getByTestId('quality-accuracy').allTextContents()) expect(cell).toBe(accuracy);
    for (const cell of await page.getByTestId('quality-fid').allTextContents()) expect(Number(cell)).toBeGreaterThan(0);
    expect(await page.getByTestId('quality-settings').first().textContent()).toMatch(/^8 vs \d+ held-out, seed 0$/);
    // Two lines (ancestral, DDIM) of two points each.
    await expect.poll(async () => Number(await page.getByTestId('quality-sweep-chart').getAttribute('data-points'))).toBe(4);
    await studio.shot('quality-sweep');

    // A long single job: its phase shows, and Cancel stops it.
    await page.getByTestId('quality-mode-single').check();
    await page.getByTestId('quality-count').fill('1024');
    await page.getByTestId('quality-steps').fill('50');
    await page.getByTestId('quality-start').click();
    await expect.poll(() => page.getByTestId('quality-phase').textContent().catch(() => null), { timeout: 120_000, interval: 250 }).toBe('sampling');
    await page.getByTestId('quality-cancel').click();
    await expect.poll(() => page.getByTestId('quality-job-status').getAttribute('data-status'), { timeout: 120_000 }).toBe('cancelled');
    expect(await page.getByTestId('quality-results').locator('tbody tr').count()).toBe(4);

    // An unlabelled dataset: NLL only, no quality form.
    await goTo('#/evaluate?run=plain');
    await expect.poll(() => page.getByTestId('quality-no-labels').textContent().catch(() => null)).toMatch(/^no labels: NLL only: folder \(unlabelled\) has no class labels/);
    expect(await page.getByTestId('quality-start').count()).toBe(0);
    await studio.shot('quality-no-labels');
    expect(studio.pageErrors).toEqual([]);
  }, 600_000);
});
