/**
 * The run page's way out of a damaged latest checkpoint, end to end: a tiny run trained and stopped by a
 * real `iddpm train`, its newest checkpoint cut short, then `iddpm serve` and Chromium: the run page names
 * the damage and offers "Resume from step N (steps N+1…M are lost)"; the button (StudioApi.resumeRun with
 * fromGoodCheckpoint, through the server's request gate) resumes the run, which trains to its end, and its
 * checkpoints table shows the share of initial weights in each EMA.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainAndStop } from '../cli/stoppedRun';
import { CHROMIUM, startStudio, type Studio } from './studioHarness';

const dataDir = mkdtempSync(path.join(tmpdir(), 'iddpm-e2e-damaged-'));
let studio: Studio | undefined;

afterAll(async () => {
  await studio?.close();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!existsSync(CHROMIUM))('resume from the newest good checkpoint in the run page', () => {
  it('shows the damage, and its button resumes from the older checkpoint to the end', async () => {
    const { code, checkpoints } = await trainAndStop(dataDir, 'cut', 14, 6);
    expect(code).toBe(130);
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    const newest = checkpoints.at(-1)!;
    const newestStep = Number(/step-(\d+)/.exec(newest)![1]);
    const goodStep = Number(/step-(\d+)/.exec(checkpoints.at(-2)!)![1]);
    truncateSync(newest, Math.floor(readFileSync(newest).length / 3));

    studio = await startStudio(dataDir);
    const { page, pageErrors } = studio;
    page.setDefaultTimeout(60_000);
    await page.goto(studio.url);
    await page.getByTestId('run-open-cut').click();

    const note = page.getByTestId('checkpoint-damage');
    await note.waitFor({ state: 'visible' });
    expect(await note.textContent()).toContain(`step-${String(newestStep).padStart(8, '0')}.safetensors, step ${newestStep}) cannot be resumed from: it is truncated`);
    const button = page.getByTestId('resume-from-good');
    expect(await button.textContent()).toBe(`Resume from step ${goodStep} (steps ${goodStep + 1}…${newestStep} are lost)`);
    await button.click();

    await expect.poll(() => page.getByTestId('run-status-cut').getAttribute('data-status'), { timeout: 240_000, interval: 500 }).toBe('done');
    expect(await page.getByTestId('run-step').textContent()).toBe('14');
    expect(await note.count()).toBe(0);
    expect(existsSync(`${newest}.damaged`)).toBe(true);
    // The checkpoints table says how much of the initial weights each EMA still holds (tiny-test: EMA 0.9, warmed up).
    await expect.poll(() => page.getByTestId('checkpoint-ema').first().textContent()).toMatch(/^0\.9 \((<0\.1|\d+(\.\d)?)% initial weights\)$/);
    expect(pageErrors).toEqual([]);
  }, 600_000);
});
