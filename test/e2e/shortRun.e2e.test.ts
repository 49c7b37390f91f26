/**
 * End to end through the web face (real `iddpm serve`, real worker, Chromium): a short mnist-quick run shows what it
 * learned. The run is created in the New run view from the preset with a few hundred steps and intervals that fit
 * them, trained to the end, then sampled twice in the Sample view with the same seed: once with the default weights
 * (the warmed-up EMA) and once with the raw weights. The images themselves are checked, as read from the files the
 * Gallery links to: MNIST digits are mostly flat background, pure noise has none, so each set's share of
 * background pixels must be clearly nearer MNIST's than noise's, and the default weights' share at least as near
 * MNIST's as the raw weights' (within a 16-image set's spread). Before the EMA warm-up the default EMA at this step still held a third of its random
 * initial weights and drew noise. Screenshots land in test-output/screenshots/short-run-*.png.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { openDataset } from '../../src-main/data/openDataset';
import { CHROMIUM, openStudioPage, reportFailures, useStudio, type Studio } from './studioHarness';

/** Training steps of the short run, and the batch it trains with (the preset's UNet, a smaller batch for speed). */
const STEPS = Number(process.env.SHORT_RUN_STEPS ?? 400);
const BATCH = 8;
/** A pixel is background when its byte value is at most this far above the image's darkest level. */
const BAND = 32;
/**
 * How much nearer MNIST the raw weights' share may be than the default weights' before the test fails: two 16-image
 * sets of the same seed differ by up to ~0.025 either way after 300–700 steps (measured), while the failure this
 * guards against (a default EMA still full of random weights, drawing noise) is ~0.5 further.
 */
const TOLERANCE = 0.05;
const SAMPLE_STEPS = 50;
const COUNT = 16;

let studio: Studio;
let page: Page;

const view = () => page.getByTestId('view').getAttribute('data-view');
const hash = () => page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash);

/**
 * Share of an image's pixels that are background: within BAND of the image's own darkest level (its 2nd percentile,
 * so a few stray dark pixels do not set it). An MNIST digit is about 85% background at 0; a model that has learned
 * the data draws a flat background too (after a few hundred steps often mid-grey rather than black), while pure
 * noise has no background and only its darkest tail falls in the band.
 */
function backgroundShare(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const darkest = sorted[Math.floor(sorted.length * 0.02)];
  let bg = 0;
  for (let i = 0; i < values.length; i++) if (values[i] <= darkest + BAND) bg++;
  return bg / values.length;
}

/** Mean background share of the training images as the model sees them (the bundled digits padded to 32 px). */
async function mnistShare(): Promise<number> {
  const ds = await openDataset({ kind: 'mnist' }, { size: 32, channels: 1 });
  let sum = 0;
  let n = 0;
  for (let i = 0; i < ds.train.count; i += 10, n++) sum += backgroundShare(ds.train.image(i));
  return sum / n;
}

/**
 * Mean background share of pure noise written as the sampler writes an image: x ~ N(0, 1) per pixel, clipped to
 * [−1, 1], byte = round((x + 1) · 127.5). Seeded (mulberry32 + Box–Muller), so the reference is the same every run.
 */
function noiseShare(images = 64, pixels = 32 * 32): number {
  let s = 12345;
  const uniform = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let sum = 0;
  for (let k = 0; k < images; k++) {
    const bytes = new Uint8Array(pixels);
    for (let i = 0; i < pixels; i++) {
      const x = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
      bytes[i] = Math.round((Math.min(1, Math.max(-1, x)) + 1) * 127.5);
    }
    sum += backgroundShare(bytes);
  }
  return sum / images;
}

/**
 * Samples COUNT images from the finished run in the Sample view with the given weights, opens the set in the Gallery
 * and reads the PNG files its single images link to. Returns the set's near-black share and what the caption says
 * about the weights.
 */
async function sampleInBrowser(runId: string, weights: 'default' | 'raw', shotName: string): Promise<{ share: number; why: string }> {
  await page.getByTestId('nav-sample').click();
  await expect.poll(view).toBe('sample');
  await page.getByTestId('sample-run').selectOption(runId);
  await page.getByTestId('sample-ema').selectOption(weights);
  await page.getByTestId('sample-sampler').selectOption('ancestral');
  await page.getByTestId('sample-steps').fill(String(SAMPLE_STEPS));
  await page.getByTestId('sample-count').fill(String(COUNT));
  await page.getByTestId('sample-seed').fill('3');
  await page.getByTestId('sample-start').click();
  await expect
    .poll(() => page.getByTestId('job-status').first().getAttribute('data-status'), { timeout: 300_000, interval: 500 })
    .toMatch(/^(done|failed|cancelled)$/);
  expect(await page.getByTestId('job-status').first().getAttribute('data-status')).toBe('done');
  await page.getByTestId('open-in-gallery').click();
  await expect.poll(view).toBe('gallery');
  const setId = Number(/[?&/]set[=/](\d+)/.exec(await hash())?.[1] ?? NaN);
  const set = Number.isInteger(setId) ? page.getByTestId(`gallery-set-${setId}`) : page.locator('[data-testid^="gallery-set-"]').first();
  await set.waitFor({ state: 'visible' });
  const images = set.getByTestId('gallery-image');
  await expect.poll(() => images.count(), { timeout: 30_000 }).toBe(COUNT);
  const why = (await set.getByTestId('weights-why').textContent()) ?? '';
  const srcs = await images.evaluateAll((imgs) => (imgs as unknown as { src: string }[]).map((i) => i.src));
  let sum = 0;
  for (const src of srcs) {
    const r = await page.request.get(src);
    expect(r.status(), src).toBe(200);
    const png = PNG.sync.read(await r.body());
    // RGBA from pngjs; the red channel of a grayscale image is its value.
    sum += backgroundShare(png.data.filter((_, i) => i % 4 === 0));
  }
  await set.scrollIntoViewIfNeeded();
  await studio.shot(shotName);
  return { share: sum / srcs.length, why };
}

describe.skipIf(!existsSync(CHROMIUM))('a short mnist-quick run shows what it learned (iddpm serve + Chromium)', () => {
  useStudio((s) => {
    studio = s;
    page = s.page;
  });

  it('samples digit-like images with the default weights, at least as close to MNIST as the raw weights', async () => {
    reportFailures(studio, 'short-run-failure');
    page.setDefaultTimeout(60_000);
    await openStudioPage(studio);

    // The run: the mnist-quick preset, STEPS steps, intervals that fit them.
    await page.getByTestId('nav-new-run').click();
    await expect.poll(view).toBe('new-run');
    await page.getByTestId('preset-select').selectOption('mnist-quick');
    await page.getByTestId('run-name').fill('short mnist');
    await page.getByTestId('field-training.maxSteps').fill(String(STEPS));
    await page.getByTestId('field-training.batchSize').fill(String(BATCH));
    await page.getByTestId('field-intervals.checkpointEvery').fill(String(STEPS));
    await page.getByTestId('field-intervals.previewEvery').fill(String(STEPS));
    await page.getByTestId('field-intervals.evalEvery').fill(String(STEPS));
    await page.getByTestId('field-intervals.gnsEvery').fill(String(STEPS));
    await page.getByTestId('create-and-start').click();
    await expect.poll(async () => (await hash()).startsWith('#/runs/')).toBe(true);
    const runId = decodeURIComponent((await hash()).slice('#/runs/'.length));
    const status = () => page.getByTestId(`run-status-${runId}`).getAttribute('data-status');
    await expect.poll(status, { timeout: 1_500_000, interval: 2_000 }).toMatch(/^(done|failed|stopped)$/);
    expect(await status()).toBe('done');
    expect(Number(await page.getByTestId('run-step').textContent())).toBe(STEPS);
    await studio.shot('short-run-detail');

    const mnist = await mnistShare();
    const noise = noiseShare();
    // The references themselves differ widely, or the comparison below would say nothing.
    expect(mnist).toBeGreaterThan(0.8);
    expect(noise).toBeLessThan(0.4);

    const def = await sampleInBrowser(runId, 'default', 'short-run-default-weights');
    expect(def.why).toMatch(/^EMA 0\.995 \(holds <0\.1% of the initial weights at step \d+\)/);
    const raw = await sampleInBrowser(runId, 'raw', 'short-run-raw-weights');
    expect(raw.why).toMatch(/^raw weights/);
    console.info(
      `background share (≤ darkest + ${BAND}/255) after ${STEPS} steps: MNIST ${mnist.toFixed(3)}, noise ${noise.toFixed(3)}, ` +
        `default weights ${def.share.toFixed(3)}, raw weights ${raw.share.toFixed(3)}`,
    );

    // Both sets learned the data's background: nearer MNIST's share than noise's, by a clear margin.
    for (const [what, s] of [['default', def.share], ['raw', raw.share]] as const) {
      expect(Math.abs(s - mnist), `${what} weights: share ${s.toFixed(3)} vs MNIST ${mnist.toFixed(3)}, noise ${noise.toFixed(3)}`).toBeLessThan(
        Math.abs(s - noise) - 0.1,
      );
    }
    // The default weights are at least as close to the data as the raw weights (within a set's spread).
    expect(Math.abs(def.share - mnist)).toBeLessThanOrEqual(Math.abs(raw.share - mnist) + TOLERANCE);
    expect(studio.pageErrors, 'uncaught errors in the page').toEqual([]);
  }, 1_800_000);
});
