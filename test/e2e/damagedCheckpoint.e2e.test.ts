/**
 * The run page's way out of a damaged latest checkpoint, end to end: a tiny run trained and stopped by a
 * real `iddpm train`, its newest checkpoint cut short, then `iddpm serve` and Chromium: the run page names
 * the damage and offers "Resume from step N (steps N+1…M are lost)"; the button (StudioApi.resumeRun with
 * fromGoodCheckpoint, through the server's request gate) resumes the run, which trains to its end, and its
 * checkpoints table shows the share of initial weights in each EMA.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { IDDPM_BIN, trainAndStop } from '../cli/stoppedRun';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = path.resolve(import.meta.dirname, '..', '..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'iddpm-e2e-damaged-'));
const profileDir = mkdtempSync(path.join(tmpdir(), 'iddpm-e2e-damaged-chromium-'));
let serve: ChildProcess | undefined;
let serveLog = '';
let context: BrowserContext | undefined;

afterAll(async () => {
  await context?.close().catch(() => {});
  if (serve && serve.exitCode === null) {
    const exited = new Promise<void>((r) => serve!.once('exit', () => r()));
    serve.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (serve.exitCode === null) serve.kill('SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profileDir, { recursive: true, force: true });
}, 60_000);

function startServe(): Promise<string> {
  return new Promise((resolve, reject) => {
    serve = spawn(process.execPath, [IDDPM_BIN, 'serve', '--port', '0', '--data', dataDir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    serve.stdout!.on('data', (c: Buffer) => {
      serveLog += c.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(serveLog);
      if (m) resolve(m[1]);
    });
    serve.stderr!.on('data', (c: Buffer) => (serveLog += c.toString()));
    serve.on('exit', (code, signal) => reject(new Error(`iddpm serve exited (${signal ?? code}):\n${serveLog}`)));
  });
}

describe.skipIf(!existsSync(CHROMIUM))('resume from the newest good checkpoint in the run page', () => {
  it('shows the damage, and its button resumes from the older checkpoint to the end', async () => {
    if (!existsSync(path.join(root, 'out', 'renderer', 'index.html'))) {
      const b = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' });
      expect(b.status, 'building the renderer').toBe(0);
    }
    const { code, checkpoints } = await trainAndStop(dataDir, 'cut', 14, 6);
    expect(code).toBe(130);
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    const newest = checkpoints.at(-1)!;
    const newestStep = Number(/step-(\d+)/.exec(newest)![1]);
    const goodStep = Number(/step-(\d+)/.exec(checkpoints.at(-2)!)![1]);
    truncateSync(newest, Math.floor(readFileSync(newest).length / 3));

    const url = await startServe();
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(60_000);
    await page.goto(url);
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
