/**
 * For end-to-end tests: a real `iddpm serve --data <tmp>` child process on the built renderer (rebuilt when a
 * renderer source is newer than the build), and Debian's Chromium driven by playwright-core.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, onTestFailed } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const root = path.resolve(import.meta.dirname, '..', '..');
export const shots = path.join(root, 'test-output', 'screenshots');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds out/renderer unless it is newer than every file of src-renderer and src-shared. */
export function ensureRendererBuilt(): void {
  const index = path.join(root, 'out', 'renderer', 'index.html');
  const sources = Math.max(newestMtime(path.join(root, 'src-renderer')), newestMtime(path.join(root, 'src-shared')));
  if (existsSync(index) && statSync(index).mtimeMs > sources) return;
  const b = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('building the renderer failed');
}

export interface Studio {
  url: string;
  page: Page;
  context: BrowserContext;
  log(): string;
  pageErrors: string[];
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** `dataDir`: a data folder a test has prepared (it is removed on close, like the fresh one). */
export async function startStudio(dataDir = mkdtempSync(path.join(tmpdir(), 'iddpm-e2e-data-'))): Promise<Studio> {
  mkdirSync(shots, { recursive: true });
  ensureRendererBuilt();
  const profileDir = mkdtempSync(path.join(tmpdir(), 'iddpm-e2e-chromium-'));
  let log = '';
  let serve: ChildProcess | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'iddpm.mjs'), 'serve', '--port', '0', '--data', dataDir], {
      cwd: root,
      env: { ...process.env, IDDPM_DEBUG: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    serve = child;
    const timer = setTimeout(() => reject(new Error(`iddpm serve printed no URL within 60 s:\n${log}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      log += c.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`iddpm serve exited (${signal ?? code}):\n${log}`));
    });
  });
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  return {
    url,
    page,
    context,
    pageErrors,
    log: () => log,
    shot: async (name) => {
      await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
    },
    close: async () => {
      await context.close().catch(() => {});
      if (serve && serve.exitCode === null) {
        const exited = new Promise<void>((r) => serve!.once('exit', () => r()));
        serve.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 40_000))]);
        if (serve.exitCode === null) serve.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

export interface UseStudioOptions {
  /** Makes the data folder the studio opens (runs trained with the CLI…); default a fresh empty one. Removed on close. */
  dataDir?: () => string | Promise<string>;
  /** For starting, dataDir's work included (default 240 s). */
  timeoutMs?: number;
}

/** Call inside a describe: starts a studio before its tests (handing it to `started`) and closes it after them. */
export function useStudio(started: (studio: Studio) => void, options: UseStudioOptions = {}): void {
  let studio: Studio | undefined;
  beforeAll(async () => {
    studio = await startStudio(options.dataDir ? await options.dataDir() : undefined);
    started(studio);
  }, options.timeoutMs ?? 240_000);
  afterAll(async () => {
    await studio?.close();
  }, 60_000);
}

/** Call inside a test: when it fails, print the tail of the serve log and take the screenshot `shotName`. */
export function reportFailures(studio: Studio, shotName: string, logChars = 6000): void {
  onTestFailed(async () => {
    console.error(`--- iddpm serve output ---\n${studio.log().slice(-logChars)}`);
    await studio.shot(shotName).catch(() => {});
  });
}

/** Opens the studio's page and waits until its live connection to the server is open. */
export async function openStudioPage(studio: Studio): Promise<void> {
  await studio.page.goto(studio.url);
  await expect.poll(() => studio.page.getByTestId('connection-state').textContent(), { timeout: 30_000 }).toBe('open');
}
