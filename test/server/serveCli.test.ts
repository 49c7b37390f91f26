/**
 * `iddpm serve` as a real child process on the real run service: prints the token URL, serves the built
 * renderer only with the token, answers the API over the WebSocket, refuses a busy port with a clear
 * message, and shuts down cleanly (exit 0) on SIGTERM and SIGINT.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustConnect, rawGet } from './helpers';

const root = path.resolve(import.meta.dirname, '..', '..');
const dirs: string[] = [];

interface Serve {
  child: ChildProcess;
  url: URL;
  log: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function serve(args: string[]): Promise<Serve> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'iddpm-serve-'));
  dirs.push(dataDir);
  const child = spawn(process.execPath, [path.join(root, 'bin', 'iddpm.mjs'), 'serve', '--data', dataDir, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s:\n${out}`)), 60_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: new URL(m[1]), log: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`serve exited with ${code}:\n${out}`), { out, code }));
    });
  });
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'out', 'renderer', 'index.html'))) {
    const b = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('building the renderer failed');
  }
}, 180_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('iddpm serve', () => {
  it('serves the studio behind the printed token URL and stops cleanly on SIGTERM', async () => {
    const s = await serve(['--port', '0']);
    try {
      expect(s.url.hostname).toBe('127.0.0.1');
      const port = Number(s.url.port);
      const token = s.url.searchParams.get('token')!;
      expect((await rawGet(port, '/')).status).toBe(401);
      const first = await rawGet(port, `/?token=${token}`);
      expect(first.status).toBe(303);
      const page = await rawGet(port, String(first.headers.location));
      expect(page.status).toBe(200);
      expect(page.body.toString()).toContain('<div id="app">');

      const ws = await mustConnect(port, token);
      const info = await ws.call('systemInfo', []);
      expect(info.result).toMatchObject({ face: 'web', dataDir: dirs.at(-1) });
      expect((await ws.call('listRuns', [])).result).toEqual([]);
      expect(await ws.call('runDetail', ['no-such-run', 100])).toMatchObject({ error: { code: 'not-found' } });
      ws.close();
    } finally {
      s.child.kill('SIGTERM');
    }
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.log()).toContain('iddpm serve: closed');
  });

  it('stops cleanly on SIGINT and says which port is busy', async () => {
    const a = await serve(['--port', '0']);
    try {
      const busy = a.url.port;
      const err = (await serve(['--port', busy]).then(
        () => null,
        (e: Error & { out?: string; code?: number }) => e,
      ))!;
      expect(err).not.toBeNull();
      expect(err.code).toBe(2);
      expect(err.out).toContain(`port ${busy} is in use`);
    } finally {
      a.child.kill('SIGINT');
    }
    expect(await a.exited).toEqual({ code: 0, signal: null });
  });
});
