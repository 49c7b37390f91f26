/**
 * The web face against an in-memory fake run service: token auth on HTTP and on the WebSocket upgrade,
 * request dispatch and error replies, event broadcast, file and renderer serving without traversal,
 * exports, and the loopback-only bind.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src-main/server/server';
import { readZip } from '../../src-main/imageio/unzip';
import { OPCODE } from '../../src-main/server/websocket';
import { connectWs, FakeBackend, mustConnect, rawGet, type TestSocket } from './helpers';

let root: string;
let rendererDir: string;
let filesRoot: string;
let backend: FakeBackend;
let server: RunningServer;
const open: TestSocket[] = [];

const PNG_BYTES = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'iddpm-server-'));
  rendererDir = path.join(root, 'renderer');
  filesRoot = path.join(root, 'data');
  mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>studio</title><script src="./assets/app.js"></script>');
  writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log("studio")');
  writeFileSync(path.join(rendererDir, 'assets', 'app.css'), 'body{}');
  mkdirSync(path.join(filesRoot, 'runs', 'r1', 'samples'), { recursive: true });
  writeFileSync(path.join(filesRoot, 'runs', 'r1', 'samples', '0000.png'), PNG_BYTES);
  writeFileSync(path.join(root, 'secret.txt'), 'TOP SECRET');
  writeFileSync(path.join(filesRoot, 'studio.db'), 'DB');
  backend = new FakeBackend(filesRoot);
  server = await startServer({ backend, port: 0, host: '127.0.0.1', rendererDir });
});

afterEach(() => {
  for (const ws of open.splice(0)) ws.close();
});

afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

async function ws(): Promise<TestSocket> {
  const s = await mustConnect(server.port, server.token);
  open.push(s);
  return s;
}

describe('binding and URL', () => {
  it('listens on 127.0.0.1 only and prints a URL with a 24-byte base64url token', async () => {
    const url = new URL(server.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(Number(url.port)).toBe(server.port);
    expect(url.searchParams.get('token')).toBe(server.token);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);

    // Any non-loopback address of this machine must refuse the connection.
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    for (const address of others) {
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        const s = connect({ host: address, port: server.port });
        s.on('connect', () => {
          s.destroy();
          resolve(null);
        });
        s.on('error', (e) => resolve(e));
      });
      expect(err?.code, `reachable on ${address}`).toBe('ECONNREFUSED');
    }
  });

  it('refuses to bind anywhere but 127.0.0.1', async () => {
    await expect(startServer({ backend, rendererDir, host: '0.0.0.0' as '127.0.0.1' })).rejects.toThrow(/127\.0\.0\.1/);
  });

  it('gives each server its own random token', async () => {
    const other = await startServer({ backend, rendererDir });
    try {
      expect(other.token).not.toBe(server.token);
      expect(other.port).not.toBe(server.port);
    } finally {
      await other.close();
    }
  });
});

describe('HTTP auth', () => {
  it('refuses requests without a token (401) and with a wrong one (403)', async () => {
    for (const p of ['/', '/index.html', '/assets/app.js', '/files/runs/r1/samples/0000.png', '/export/set/1.zip']) {
      const none = await rawGet(server.port, p);
      expect(none.status, p).toBe(401);
      expect(none.body.toString()).not.toContain('studio');
      const wrong = await rawGet(server.port, `${p}?token=${'x'.repeat(32)}`);
      expect(wrong.status, p).toBe(403);
      // No cookie authorises anything, not even one holding the right token.
      const cookie = await rawGet(server.port, p, { Cookie: `iddpm_token_${server.port}=${server.token}` });
      expect(cookie.status, p).toBe(401);
    }
    for (const p of ['/s/', `/s/${'x'.repeat(32)}/`, `/s/${'x'.repeat(32)}/assets/app.js`]) {
      expect((await rawGet(server.port, p)).status, p).toBe(403);
    }
  });

  it('sends the printed URL to the page folder /s/<token>/, whose path authorises the page and its assets', async () => {
    const first = await rawGet(server.port, `/?token=${server.token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe(`/s/${server.token}/?token=${server.token}`);
    const page = await rawGet(server.port, first.headers.location as string);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body.toString()).toContain('<title>studio</title>');

    // The page's relative assets resolve under its folder and need nothing else.
    const js = await rawGet(server.port, `/s/${server.token}/assets/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const css = await rawGet(server.port, `/s/${server.token}/assets/app.css`);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    // A valid query token does not open another page folder.
    expect((await rawGet(server.port, `/s/${'x'.repeat(32)}/assets/app.js?token=${server.token}`)).status).toBe(403);
  });

  it('sets no cookie, so no other server on 127.0.0.1 ever receives the token (cookies ignore the port)', async () => {
    const paths = [`/?token=${server.token}`, `/s/${server.token}/`, `/s/${server.token}/assets/app.js`, `/files/runs/r1/samples/0000.png?token=${server.token}`, `/export/set/1.zip?token=${server.token}`];
    for (const p of paths) {
      const r = await rawGet(server.port, p);
      expect(r.status, p).toBeLessThan(400);
      expect(r.headers['set-cookie'], p).toBeUndefined();
    }
  });

  it('never serves files outside the renderer through the page folder (path traversal)', async () => {
    for (const rest of ['../secret.txt', '%2e%2e/secret.txt', '..%2f..%2fsecret.txt', 'assets/..%2f..%2fsecret.txt', '%2e%2e%2fdata%2fstudio.db']) {
      const r = await rawGet(server.port, `/s/${server.token}/${rest}`);
      expect(r.status, rest).toBeGreaterThanOrEqual(400);
      expect(r.body.toString(), rest).not.toContain('TOP SECRET');
    }
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const r = await rawGet(server.port, `/?token=${server.token}`, { Host: `evil.example:${server.port}` });
    expect(r.status).toBe(421);
  });

  it('answers only GET and HEAD', async () => {
    const r = await fetch(`http://127.0.0.1:${server.port}/?token=${server.token}`, { method: 'POST', body: 'x' });
    expect(r.status).toBe(405);
  });
});

describe('WebSocket auth', () => {
  it('refuses the upgrade without a token (401) and with a wrong token (403)', async () => {
    const none = await connectWs(server.port, '/api');
    expect(none).toMatchObject({ ok: false, status: 401 });
    const wrong = await connectWs(server.port, `/api?token=${'y'.repeat(32)}`);
    expect(wrong).toMatchObject({ ok: false, status: 403 });
    const cookie = await connectWs(server.port, '/api', { Cookie: `iddpm_token_${server.port}=${server.token}` });
    expect(cookie).toMatchObject({ ok: false, status: 401 });
    expect(server.clientCount()).toBe(0);
  });

  it('accepts the token as query from its own origin, refuses other origins and other paths', async () => {
    const q = await ws();
    expect((await q.call('listRuns', [])).result).toEqual([]);
    const c = await connectWs(server.port, `/api?token=${server.token}`, { Origin: `http://127.0.0.1:${server.port}` });
    expect(c.ok).toBe(true);
    if (c.ok) open.push(c.ws);
    const evil = await connectWs(server.port, `/api?token=${server.token}`, { Origin: 'http://evil.example' });
    expect(evil).toMatchObject({ ok: false, status: 403 });
    const elsewhere = await connectWs(server.port, `/other?token=${server.token}`);
    expect(elsewhere).toMatchObject({ ok: false, status: 404 });
  });
});

describe('requests', () => {
  it('dispatches API methods and replies {id, result}', async () => {
    const s = await ws();
    const info = await s.call('systemInfo', []);
    expect(info.result).toMatchObject({ face: 'web', version: '0.0.0-test' });
    const presets = (await s.call('presets', [])).result as { id: string; config: unknown }[];
    expect(presets.map((p) => p.id)).toContain('tiny-test');
    const created = (await s.call('createRun', [{ config: presets[0].config, name: 'a', start: false }])).result as { id: string };
    expect(created.id).toMatch(/^run-/);
    const del = await s.call('deleteRun', [created.id]);
    expect(del).toEqual({ id: del.id, result: null });
    // listSampleSets with no filter means "all".
    await s.call('listSampleSets', []);
    expect(backend.calls.at(-1)).toEqual({ method: 'listSampleSets', params: [{}] });
  });

  it('answers malformed messages with an error and keeps the socket and the service working', async () => {
    const s = await ws();
    const other = await ws();

    s.sendText('this is not json');
    expect(await s.waitJson((m) => m.id === -1)).toMatchObject({ id: -1, error: { code: 'bad-request' } });
    s.sendText(JSON.stringify([1, 2, 3]));
    expect(await s.waitJson((m) => m.id === -1)).toMatchObject({ error: { code: 'bad-request' } });
    s.sendText(JSON.stringify({ method: 'listRuns', params: [] }));
    expect(await s.waitJson((m) => m.id === -1)).toMatchObject({ error: { code: 'bad-request' } });

    expect(await s.call('dropDatabase', [])).toMatchObject({ error: { code: 'bad-request', message: expect.stringContaining('unknown method') } });
    expect(await s.call('__proto__', [])).toMatchObject({ error: { code: 'bad-request' } });
    expect(await s.call('constructor', [])).toMatchObject({ error: { code: 'bad-request' } });
    expect(await s.call('listRuns', { not: 'an array' } as unknown as unknown[])).toMatchObject({ error: { code: 'bad-request' } });
    expect(await s.call('runDetail', [42, 100])).toMatchObject({ error: { code: 'bad-request', message: expect.stringContaining('runId') } });
    expect(await s.call('runDetail', ['r', -5])).toMatchObject({ error: { code: 'bad-request', message: expect.stringContaining('points') } });
    expect(await s.call('listRuns', [1, 2, 3])).toMatchObject({ error: { code: 'bad-request' } });
    expect(await s.call('series', ['r', ['loss', 'rm -rf'], 100])).toMatchObject({ error: { code: 'bad-request' } });
    expect(await s.call('createRun', [{ name: 'no config' }])).toMatchObject({ error: { code: 'bad-request' } });
    expect(await s.call('startSampling', [{ runId: 'r', sampler: 'magic', steps: 10, count: 4, seed: 0 }])).toMatchObject({ error: { code: 'bad-request' } });
    expect(await s.call('startSampling', [{ runId: 'r', sampler: 'ddim', steps: 1.5, count: 4, seed: 0 }])).toMatchObject({ error: { code: 'bad-request' } });
    expect(await s.call('cancelJob', ['1'])).toMatchObject({ error: { code: 'bad-request' } });
    expect(await s.call('listSampleSets', [{ kind: 'everything' }])).toMatchObject({ error: { code: 'bad-request' } });

    // The service's own errors keep their code; anything else is 'internal'.
    expect(await s.call('runDetail', ['missing', 100])).toMatchObject({ error: { code: 'not-found', message: 'run missing not found' } });
    expect(await s.call('cancelJob', [7])).toMatchObject({ error: { code: 'not-found' } });

    // A binary frame is refused by closing only that socket.
    const bin = await ws();
    bin.sendFrame(OPCODE.binary, Buffer.from([1, 2, 3]));
    await bin.waitClosed();

    // Same socket still works; so does everyone else's.
    expect((await s.call('listRuns', [])).result).toEqual([]);
    expect((await other.call('systemInfo', [])).result).toMatchObject({ face: 'web' });
  });

  it('turns a throwing or misbehaving service method into an internal error reply', async () => {
    const s = await ws();
    const original = backend.listJobs;
    backend.listJobs = () => {
      throw new TypeError('boom');
    };
    try {
      expect(await s.call('listJobs', [])).toMatchObject({ error: { code: 'internal', message: 'boom' } });
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      backend.listJobs = async () => [circular as never];
      expect(await s.call('listJobs', [])).toMatchObject({ error: { code: 'internal' } });
    } finally {
      backend.listJobs = original;
    }
    expect((await s.call('listJobs', [])).result).toEqual([]);
  });
});

describe('events', () => {
  it('broadcasts service events to every open socket as {event}', async () => {
    const a = await ws();
    const b = await ws();
    // Wait until both are registered (a round trip each).
    await a.call('listRuns', []);
    await b.call('listRuns', []);
    const event = { type: 'runDeleted' as const, runId: 'run-x' };
    backend.emit(event);
    expect(await a.waitJson((m) => 'event' in m)).toEqual({ event });
    expect(await b.waitJson((m) => 'event' in m)).toEqual({ event });

    // A run created by one client reaches the other as an event.
    const created = (await a.call('createRun', [{ config: {}, name: 'shared' }])).result as { id: string };
    const seen = await b.waitJson((m) => 'event' in m && (m.event as { type: string }).type === 'run');
    expect((seen.event as { run: { id: string } }).run.id).toBe(created.id);

    // A closed client does not break the broadcast.
    a.close();
    await new Promise((r) => setTimeout(r, 50));
    backend.emit({ type: 'runDeleted', runId: 'run-y' });
    expect(await b.waitJson((m) => 'event' in m && (m.event as { runId?: string }).runId === 'run-y')).toBeTruthy();
  });
});

describe('WebSocket protocol', () => {
  it('answers ping with pong and reassembles fragmented messages', async () => {
    const s = await ws();
    s.sendFrame(OPCODE.ping, 'hello');
    const pong = await s.waitFrame((f) => f.opcode === OPCODE.pong);
    expect(pong.payload.toString()).toBe('hello');

    const msg = JSON.stringify({ id: 99, method: 'listRuns', params: [] });
    s.sendFrame(OPCODE.text, msg.slice(0, 5), { fin: false });
    s.sendFrame(OPCODE.ping, 'mid'); // control frames may interleave
    s.sendFrame(OPCODE.continuation, msg.slice(5, 20), { fin: false });
    s.sendFrame(OPCODE.continuation, msg.slice(20), { fin: true });
    expect(await s.waitJson((m) => m.id === 99)).toMatchObject({ id: 99, result: expect.any(Array) });
  });

  it('handles 16-bit and 64-bit payload lengths both ways', async () => {
    const s = await ws();
    for (const size of [300, 70_000]) {
      const config = { padding: 'p'.repeat(size) };
      const reply = await s.call('validateConfig', [config]);
      expect(Array.isArray(reply.result)).toBe(true);
      expect(backend.calls.at(-1)).toEqual({ method: 'validateConfig', params: [config] });
    }
    // A big event goes out with a 64-bit length.
    const big = { type: 'runDeleted' as const, runId: 'z'.repeat(100_000) };
    backend.emit(big);
    expect(await s.waitJson((m) => 'event' in m)).toEqual({ event: big });
  });

  it('closes a client that sends unmasked frames, without affecting others', async () => {
    const bad = await ws();
    const good = await ws();
    bad.sendFrame(OPCODE.text, JSON.stringify({ id: 1, method: 'listRuns', params: [] }), { masked: false });
    const close = await bad.waitFrame((f) => f.opcode === OPCODE.close);
    expect(close.payload.readUInt16BE(0)).toBe(1002);
    expect((await good.call('listRuns', [])).result).toEqual(expect.any(Array));
  });

  it('completes the close handshake', async () => {
    const s = await ws();
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(1000, 0);
    s.sendFrame(OPCODE.close, payload);
    const echo = await s.waitFrame((f) => f.opcode === OPCODE.close);
    expect(echo.payload.readUInt16BE(0)).toBe(1000);
    await s.waitClosed();
  });
});

describe('files and exports', () => {
  /** The path with the token in its query, as the page's own image and export URLs carry it. */
  const t = (p: string) => `${p}${p.includes('?') ? '&' : '?'}token=${server.token}`;

  it('serves sample images with the PNG content type', async () => {
    const r = await rawGet(server.port, t('/files/runs/r1/samples/0000.png'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/png');
    expect(r.body.equals(PNG_BYTES)).toBe(true);
    expect((await rawGet(server.port, t('/files/runs/r1/samples/none.png'))).status).toBe(404);
    // URL-encoded names are passed to the backend still encoded (it decodes once).
    writeFileSync(path.join(filesRoot, 'runs', 'r1', 'samples', 'a b.png'), PNG_BYTES);
    expect((await rawGet(server.port, t('/files/runs/r1/samples/a%20b.png'))).status).toBe(200);
    // Nothing but images leaves the data directory.
    expect((await rawGet(server.port, t('/files/studio.db'))).status).toBe(403);
  });

  it('never serves anything outside the data dir or the renderer (path traversal)', async () => {
    const attempts = [
      '/files/../secret.txt',
      '/files/../../secret.txt',
      '/files/%2e%2e/secret.txt',
      '/files/%2E%2E%2Fsecret.txt',
      '/files/runs/..%2f..%2f..%2fsecret.txt',
      '/files/runs/%2e%2e/%2e%2e/%2e%2e/secret.txt',
      '/files/..%5csecret.txt',
      '/files/%00/secret.txt',
      '/files/%',
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%2f..%2fdata%2fstudio.db',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      '/files/%252e%252e/secret.txt',
      '/files/studio.db',
      '/files/runs/r1/samples/%2e%2e/%2e%2e/%2e%2e/secret.png',
    ];
    for (const p of attempts) {
      const r = await rawGet(server.port, t(p));
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.body.toString(), p).not.toContain('TOP SECRET');
      expect(r.body.toString(), p).not.toContain('root:');
    }
  });

  it('exports a sample set as a zip attachment', async () => {
    const r = await rawGet(server.port, t('/export/set/1.zip'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.headers['content-disposition']).toBe('attachment; filename="sample-set-1.zip"');
    const entries = readZip(r.body);
    expect(entries.map((e) => e.name).sort()).toEqual(['0000.png', 'manifest.json']);
    expect(JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString())).toEqual({ set: 1 });
    expect((await rawGet(server.port, t('/export/set/2.zip'))).status).toBe(404);
    expect((await rawGet(server.port, t('/export/set/abc.zip'))).status).toBe(400);
  });

  it('exports a study folder as a zip attachment, refusing ids that are not study ids', async () => {
    const r = await rawGet(server.port, t('/export/study/study-1.zip'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.headers['content-disposition']).toBe('attachment; filename="study-1.zip"');
    expect(readZip(r.body).map((e) => e.name)).toEqual(['report.md']);
    expect((await rawGet(server.port, t('/export/study/other.zip'))).status).toBe(404);
    const bad = await rawGet(server.port, t('/export/study/..%2Fx.zip'));
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toContain('the study id');
  });

  it('says how to build the renderer when it is missing', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'iddpm-norenderer-'));
    const s = await startServer({ backend, rendererDir: empty });
    try {
      const r = await rawGet(s.port, `/?token=${s.token}`);
      expect(r.status).toBe(503);
      expect(r.body.toString()).toContain('npm run build');
    } finally {
      await s.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('close', () => {
  it('closes open sockets and stops listening', async () => {
    const s = await startServer({ backend, rendererDir });
    const client = await mustConnect(s.port, s.token);
    await client.call('listRuns', []);
    const before = backend.handlers.size;
    await s.close();
    await client.waitClosed();
    expect(backend.handlers.size).toBe(before - 1);
    await expect(fetch(`http://127.0.0.1:${s.port}/?token=${s.token}`)).rejects.toThrow();
  });
});
