/**
 * The web face: the built renderer, sample images, sample-set exports and the StudioApi over a WebSocket,
 * on 127.0.0.1 only, behind a random token.
 *
 * Auth: startServer makes a 24-byte random token (base64url) and returns the URL with `?token=…`. Every
 * HTTP request and the WebSocket upgrade must carry it, either as the `token` query parameter or in the
 * path of the page: `/?token=T` redirects to `/s/T/?token=T`, where index.html lives, so the page's own
 * relative asset requests (`./assets/…`, which carry no query) carry the token in their path. There is no
 * cookie: cookies are scoped by host, not port, so one would be sent to every other server the browser
 * visits on 127.0.0.1. No token → 401, a wrong token → 403; the upgrade is refused the same way. As defence
 * in depth the Host header must name the loopback address (DNS rebinding) and a WebSocket Origin, when sent,
 * must be this server's own origin (cross-site WebSocket hijacking). Responses say Referrer-Policy:
 * no-referrer so the token never leaks in a Referer.
 *
 * Wire protocol (src-shared/protocol.ts): the client sends ClientMessage `{id, method, params}` as text
 * frames; the server replies `{id, result}` or `{id, error: ApiError}`, and pushes `{event}` to every
 * open socket. A message that is not JSON, or has no integer id, gets `{id: -1, error}`.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerMessage, StudioApi, StudioEvent } from '../../src-shared/protocol';
import { runIdProblem } from '../../src-shared/runId';
import { contentType, IMAGE_EXTENSIONS, safeJoin } from './staticFiles';
import { handleRequest, toApiError } from './validateRequest';
import { acceptWebSocket, refuseUpgrade, type WebSocketConnection } from './websocket';

/** What the web face needs from the run service (RunService satisfies it structurally). */
export interface StudioBackend extends StudioApi {
  subscribe(handler: (e: StudioEvent) => void): () => void;
  /** Maps a file URL path (`/files/runs/<id>/samples/…png`) to an absolute path inside the data dir, or null. */
  resolveFile(urlPath: string): string | null;
  /** A zip of the set's PNGs and manifest.json. */
  exportSampleSetZip(setId: number): Promise<Buffer>;
  /** A zip of a study's export folder (report.md, CSV, JSON, PNG charts), written fresh. */
  exportStudyZip(studyId: string): Promise<Buffer>;
}

export interface ServerOptions {
  backend: StudioBackend;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Only the loopback address is allowed. */
  host?: '127.0.0.1';
  /** The built renderer (out/renderer): index.html and assets. */
  rendererDir: string;
  /** Fixed token (tests); default: 24 random bytes, base64url. */
  token?: string;
}

export interface RunningServer {
  /** http://127.0.0.1:<port>/?token=… */
  url: string;
  port: number;
  host: string;
  token: string;
  /** Number of open WebSocket clients. */
  clientCount(): number;
  close(): Promise<void>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

type AuthResult = { ok: true } | { ok: false; status: 401 | 403; message: string };

/** The page's folder: `/s/<token>/`. Its first segment after /s/ is the credential of every request under it. */
const PAGE_PATH = /^\/s\/([^/]*)(?:\/|$)/;

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { backend } = opts;
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new Error(`the web face binds to 127.0.0.1 only, not ${String(host)}`);
  const rendererDir = path.resolve(opts.rendererDir);
  const token = opts.token ?? randomBytes(24).toString('base64url');
  let port = opts.port ?? 0;
  const pagePrefix = `/s/${token}/`;
  const sockets = new Set<WebSocketConnection>();

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  function authorise(url: URL): AuthResult {
    const queryToken = url.searchParams.get('token');
    const pathToken = PAGE_PATH.exec(url.pathname)?.[1];
    const given = queryToken ?? pathToken;
    if (given === undefined) {
      return { ok: false, status: 401, message: 'missing token: open the URL that `iddpm serve` printed (it ends in ?token=…)' };
    }
    // Both must match when both are given, so a valid query cannot open another page folder.
    const ok = sameToken(given, token) && (pathToken === undefined || sameToken(pathToken, token));
    return ok ? { ok: true } : { ok: false, status: 403, message: 'wrong token' };
  }

  function parseUrl(req: IncomingMessage): URL | null {
    try {
      return new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      return null;
    }
  }

  function plain(res: ServerResponse, status: number, message: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `${message}\n`;
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(body);
  }

  function sendFile(req: IncomingMessage, res: ServerResponse, file: string, headers: Record<string, string> = {}): void {
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return plain(res, 404, 'not found');
      size = st.size;
    } catch {
      return plain(res, 404, 'not found');
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': contentType(file), 'Content-Length': size, ...headers });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  async function serveExport(res: ServerResponse, idText: string): Promise<void> {
    const id = Number(idText);
    if (!/^\d{1,15}$/.test(idText) || !Number.isSafeInteger(id)) return plain(res, 400, 'the sample set id must be an integer');
    try {
      const zip = await backend.exportSampleSetZip(id);
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': 'application/zip',
        'Content-Length': zip.length,
        'Content-Disposition': `attachment; filename="sample-set-${id}.zip"`,
        'Cache-Control': 'no-store',
      });
      res.end(zip);
    } catch (e) {
      const err = toApiError(e);
      plain(res, err.code === 'not-found' ? 404 : err.code === 'bad-request' ? 400 : 500, err.message);
    }
  }

  async function serveStudyExport(res: ServerResponse, idText: string): Promise<void> {
    let id: string;
    try {
      id = decodeURIComponent(idText);
    } catch {
      return plain(res, 400, 'the study id is not valid URL encoding');
    }
    const problem = runIdProblem(id);
    if (problem) return plain(res, 400, `the study id ${problem}`);
    try {
      const zip = await backend.exportStudyZip(id);
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': 'application/zip',
        'Content-Length': zip.length,
        'Content-Disposition': `attachment; filename="${id}.zip"`,
        'Cache-Control': 'no-store',
      });
      res.end(zip);
    } catch (e) {
      const err = toApiError(e);
      plain(res, err.code === 'not-found' ? 404 : err.code === 'bad-request' ? 400 : 500, err.message);
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseUrl(req);
    if (!url) return plain(res, 400, 'bad request');
    if (!allowedHosts().has(String(req.headers.host ?? ''))) return plain(res, 421, 'wrong Host header: use http://127.0.0.1:<port>/');
    const auth = authorise(url);
    if (!auth.ok) return plain(res, auth.status, auth.message);
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed');
    const p = url.pathname;

    const indexFile = path.join(rendererDir, 'index.html');
    const notBuilt = () => plain(res, 503, `the renderer is not built (no ${indexFile}): run \`npm run build\` first`);
    // The printed URL: on to the page's folder, keeping the query the page reads its token from.
    if (p === '/' || p === '/index.html' || p === pagePrefix.slice(0, -1)) {
      if (!existsSync(indexFile)) return notBuilt();
      res.writeHead(303, { ...SECURITY_HEADERS, Location: `${pagePrefix}?token=${token}`, 'Cache-Control': 'no-store', 'Content-Length': 0 });
      res.end();
      return;
    }

    if (p === '/api') return plain(res, 426, 'the API is a WebSocket: connect with ws://…/api?token=…');

    if (p.startsWith('/files/')) {
      // Only images (sample PNGs and grids) leave the data directory this way: never the database or
      // checkpoints. Traversal is refused here before the backend maps the (still encoded) URL path.
      if (safeJoin('/', p) === null) return plain(res, 403, 'forbidden path');
      if (!IMAGE_EXTENSIONS.has(path.extname(p).toLowerCase())) return plain(res, 403, 'only images are served under /files/');
      let file: string | null;
      try {
        file = backend.resolveFile(p);
      } catch {
        file = null;
      }
      if (!file || !IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase())) return plain(res, 404, 'no such file');
      return sendFile(req, res, file, { 'Cache-Control': 'private, max-age=3600' });
    }

    const exp = /^\/export\/set\/([^/]+)\.zip$/.exec(p);
    if (exp) return serveExport(res, exp[1]);
    const studyExport = /^\/export\/study\/([^/]+)\.zip$/.exec(p);
    if (studyExport) return serveStudyExport(res, studyExport[1]);

    // The page and its assets, under /s/<token>/ (authorise checked the token in the path).
    const rel = p.startsWith(pagePrefix) ? p.slice(pagePrefix.length) || 'index.html' : p;
    const file = safeJoin(rendererDir, rel);
    if (!file) return plain(res, 403, 'forbidden path');
    if (file === indexFile && !existsSync(file)) return notBuilt();
    const isHtml = file.endsWith('.html');
    return sendFile(req, res, file, { 'Cache-Control': isHtml ? 'no-store' : 'no-cache' });
  }

  function onMessage(ws: WebSocketConnection, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      reply(ws, { id: -1, error: { code: 'bad-request', message: 'the message is not JSON: send {"id", "method", "params"}' } });
      return;
    }
    const m = msg as { id?: unknown; method?: unknown; params?: unknown };
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg) || typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) {
      reply(ws, { id: -1, error: { code: 'bad-request', message: 'a request is {"id": <integer>, "method", "params": [...]}' } });
      return;
    }
    const id = m.id;
    handleRequest(backend, m.method, m.params).then(
      (r) => reply(ws, { id, ...r } as ServerMessage),
      (e: unknown) => reply(ws, { id, error: toApiError(e) }),
    );
  }

  function reply(ws: WebSocketConnection, msg: ServerMessage): void {
    let text: string;
    try {
      text = JSON.stringify(msg);
    } catch (e) {
      text = JSON.stringify({ id: 'id' in msg ? msg.id : -1, error: { code: 'internal', message: `the reply could not be encoded: ${(e as Error).message}` } });
    }
    ws.send(text);
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = parseUrl(req);
    if (!url || url.pathname !== '/api') return refuseUpgrade(socket, 404, 'the WebSocket endpoint is /api');
    if (!allowedHosts().has(String(req.headers.host ?? ''))) return refuseUpgrade(socket, 403, 'wrong Host header');
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return refuseUpgrade(socket, 403, 'cross-origin WebSocket refused');
    const auth = authorise(url);
    if (!auth.ok) return refuseUpgrade(socket, auth.status, auth.message);
    const ws = acceptWebSocket(req, socket, head);
    if (!ws) return;
    sockets.add(ws);
    ws.on('message', (text) => onMessage(ws, text));
    ws.on('close', () => sockets.delete(ws));
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch(() => plain(res, 500, 'internal error'));
  });
  server.on('upgrade', onUpgrade);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  const unsubscribe = backend.subscribe((event) => {
    let text: string;
    try {
      text = JSON.stringify({ event } satisfies ServerMessage);
    } catch {
      return;
    }
    for (const ws of sockets) ws.send(text);
  });

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/?token=${token}`,
    port,
    host,
    token,
    clientCount: () => sockets.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        unsubscribe();
        for (const ws of sockets) ws.close(1001, 'server shutting down');
        server.close(() => resolve());
        // Close keep-alive HTTP connections, and drop WebSockets that do not answer the close quickly.
        server.closeIdleConnections();
        setTimeout(() => {
          for (const ws of sockets) ws.terminate();
          server.closeAllConnections();
        }, 500).unref();
      });
      return closing;
    },
  };
}
