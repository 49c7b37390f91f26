/**
 * Electron main process: a thin shell over the run service.
 *
 * - The run service lives here (data directory: the app's userData folder); the window talks to it only
 *   through the preload's `window.studio` bridge: one ipcMain.handle per StudioApi method on
 *   `studio:<method>`, validated by the same gate as the web face (src-main/server/validateRequest.ts),
 *   replying `{ result }` or `{ error: ApiError }`. Events go to every window on 'studio:event'.
 * - The renderer is served from the privileged custom scheme `studio://app/` (not file://), and the same
 *   origin serves sample images at `studio://app/files/…` through the service's resolveFile. So the image
 *   URLs the service hands out (`/files/runs/<id>/samples/…png`) resolve in both faces, and the renderer's
 *   strict CSP (`default-src 'self'`, `img-src 'self' data: blob:`) stays as it is.
 * - No new windows, no navigation away from the app, no permissions.
 */
import { app, BrowserWindow, dialog, ipcMain, protocol, session, shell, type IpcMainInvokeEvent } from 'electron';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BRIDGE_CHANNELS, type SampleSetExport } from '../../src-shared/bridge';
import { API_METHODS } from '../../src-shared/protocol';
import { createRunService } from '../runs/runService';
import { useSqliteNativeBinding } from '../store';
import { electronWorkerFactory } from './worker';
import type { StudioBackend } from '../server/server';
import { contentType, IMAGE_EXTENSIONS, safeJoin } from '../server/staticFiles';
import { isSafeEntryName, readZip } from '../imageio/unzip';
import { handleRequest, toApiError, type ApiReply } from '../server/validateRequest';

const here = dirname(fileURLToPath(import.meta.url));
const preloadPath = join(here, '../preload/preload.cjs');
const rendererDir = join(here, '../renderer');
/** The app folder (package.json, src-main/, node_modules/): out/main/ is two levels down. */
const appRoot = join(here, '..', '..');
/** The window icon (Linux and Windows; macOS takes the bundle's icon), drawn in resources/icon.svg. */
const windowIcon = join(appRoot, 'resources', 'icons', '512x512.png');
/**
 * better-sqlite3 built for Electron's ABI by scripts/build-electron-native.mjs (node_modules keeps Node's build
 * for the CLI and web face). Without it the store's open fails with one line naming the fix.
 */
const electronSqlite = join(appRoot, 'native', 'electron', 'better_sqlite3.node');
const SCHEME = 'studio';
const APP_ORIGIN = `${SCHEME}://app`;

// Must run before 'ready': a standard, secure scheme gets an origin of its own ('self' in the CSP).
protocol.registerSchemesAsPrivileged([
  { scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true } },
]);

let service: (StudioBackend & { close(): Promise<void> }) | null = null;

function devUrl(): string | undefined {
  return !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined;
}

function isAppUrl(url: string): boolean {
  const dev = devUrl();
  return url.startsWith(`${APP_ORIGIN}/`) || (dev !== undefined && url.startsWith(dev));
}

/** IPC is answered only for our own pages. */
function fromApp(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url ?? '';
  return isAppUrl(url);
}

function notFound(): Response {
  return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
}

/** studio://app/… → the built renderer, or a sample image via the service. */
function handleAppProtocol(request: Request): Response {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return notFound();
  }
  if (url.host !== 'app') return notFound();
  let file: string | null;
  if (url.pathname.startsWith('/files/')) {
    // As in the web face: images only, no traversal; the service decodes the URL path itself.
    if (safeJoin('/', url.pathname) === null || !service) return notFound();
    if (!IMAGE_EXTENSIONS.has(extname(url.pathname).toLowerCase())) return notFound();
    try {
      file = service.resolveFile(url.pathname);
    } catch {
      file = null;
    }
  } else {
    file = safeJoin(rendererDir, url.pathname === '/' ? 'index.html' : url.pathname);
  }
  if (!file) return notFound();
  try {
    if (!statSync(file).isFile()) return notFound();
    return new Response(readFileSync(file), {
      status: 200,
      headers: { 'content-type': contentType(file), 'x-content-type-options': 'nosniff' },
    });
  } catch {
    return notFound();
  }
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 800,
    minHeight: 560,
    title: 'iddpm-studio',
    ...(existsSync(windowIcon) ? { icon: windowIcon } : {}),
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });

  win.once('ready-to-show', () => win.show());

  // No new windows and no navigation away from the app; http(s) links open in the system browser.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });

  const dev = devUrl();
  void win.loadURL(dev ?? `${APP_ORIGIN}/index.html`);
  return win;
}

/** Asks for a folder and writes the set's PNGs and manifest.json into `<folder>/sample-set-<id>/`. */
async function exportSampleSet(event: IpcMainInvokeEvent, setId: unknown): Promise<SampleSetExport | null> {
  if (typeof setId !== 'number' || !Number.isSafeInteger(setId) || setId < 0) {
    throw { code: 'bad-request', message: 'exportSampleSet takes a sample set id (an integer)' };
  }
  if (!service) throw { code: 'internal', message: 'the run service is not open' };
  const win = BrowserWindow.fromWebContents(event.sender);
  const options = { title: 'Export sample set', properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[] };
  const picked = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  if (picked.canceled || picked.filePaths.length === 0) return null;
  const zip = await service.exportSampleSetZip(setId);
  const folder = join(picked.filePaths[0], `sample-set-${setId}`);
  mkdirSync(folder, { recursive: true });
  const files: string[] = [];
  for (const entry of readZip(zip)) {
    if (!isSafeEntryName(entry.name)) continue;
    const target = join(folder, ...entry.name.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, entry.data);
    files.push(entry.name);
  }
  return { folder, files };
}

async function start(): Promise<void> {
  // The studio needs no camera, microphone, notifications or geolocation.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  protocol.handle(SCHEME, handleAppProtocol);
  if (existsSync(electronSqlite)) useSqliteNativeBinding(electronSqlite);

  const svc = await createRunService({ dataDir: app.getPath('userData'), face: 'electron', workerFactory: electronWorkerFactory(appRoot), version: app.getVersion() });
  service = svc;

  for (const method of API_METHODS) {
    ipcMain.handle(`${BRIDGE_CHANNELS.methodPrefix}${method}`, (event, ...params: unknown[]): Promise<ApiReply> => {
      if (!fromApp(event)) return Promise.resolve({ error: { code: 'bad-request', message: 'not an app page' } });
      return handleRequest(svc, method, params);
    });
  }
  ipcMain.handle(BRIDGE_CHANNELS.exportSampleSet, async (event, setId: unknown): Promise<ApiReply> => {
    if (!fromApp(event)) return { error: { code: 'bad-request', message: 'not an app page' } };
    try {
      return { result: await exportSampleSet(event, setId) };
    } catch (e) {
      return { error: toApiError(e) };
    }
  });
  svc.subscribe((e) => {
    for (const win of BrowserWindow.getAllWindows()) {
      if (!win.isDestroyed()) win.webContents.send(BRIDGE_CHANNELS.event, e);
    }
  });

  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

app.whenReady().then(start).catch((err: unknown) => {
  // One line with the cause and the fix (e.g. better-sqlite3 built for the wrong ABI), not a stack.
  const message = String((err as Error)?.message ?? err);
  console.error(`iddpm-studio could not start: ${message}`);
  dialog.showErrorBox('iddpm-studio could not start', message);
  app.exit(1);
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Close the service (workers, store) before quitting.
let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !service) return;
  event.preventDefault();
  quitting = true;
  const svc = service;
  service = null;
  svc.close().catch((err: unknown) => console.error('iddpm-studio: closing the run service failed', err)).finally(() => app.quit());
});
