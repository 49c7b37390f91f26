#!/usr/bin/env node
// postinstall (last step): a second build of better-sqlite3, for Electron's Node ABI, at
// native/electron/better_sqlite3.node. Never fails the install.
//
// Why a second copy: node_modules/better-sqlite3 is built for the system Node, which the CLI, the web face and the
// tests use. The Electron main process has another NODE_MODULE_VERSION and cannot load that build; rebuilding it in
// place (electron-rebuild) would break the CLI instead. So the app opens SQLite through better-sqlite3's
// `nativeBinding` option pointed at this file (src-main/app/main.ts → src-main/store/nativeBinding.ts).
//
// Runs only where the Electron binary was downloaded (scripts/ensure-electron.mjs); elsewhere it prints one line and
// skips. Needs Electron's headers, which node-gyp downloads from electronjs.org (network) the first time.
// The native CPU kernels (native/) are Node-API and load in both runtimes: nothing to do for them.
// IDDPM_SKIP_ELECTRON_NATIVE=1 skips; `--force` (npm run build:electron-native) rebuilds; IDDPM_ELECTRON_DIR overrides where
// the electron package is looked for (tests).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TIMEOUT_MS = 10 * 60_000;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT_DIR = join(root, 'native', 'electron');
export const BINDING_NAME = 'better_sqlite3.node';
const note = (msg) => console.log(`[iddpm-studio] ${msg}`);

function packageDir(name) {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

function versionOf(dir) {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
}

/**
 * What to do, decided from the files alone: { action: 'skip', why } | { action: 'up-to-date', file } |
 * { action: 'build', electronVersion, sqliteVersion, sqliteDir, file }.
 */
export function planElectronNative({ electronDir, sqliteDir, outDir = OUT_DIR, force = false }) {
  if (!electronDir || !existsSync(join(electronDir, 'package.json'))) {
    return { action: 'skip', why: 'the electron package is not installed' };
  }
  const pathTxt = join(electronDir, 'path.txt');
  if (!existsSync(pathTxt) || !existsSync(join(electronDir, 'dist', readFileSync(pathTxt, 'utf8').trim()))) {
    return { action: 'skip', why: 'there is no Electron binary here (the CLI and web face use the Node build)' };
  }
  if (!sqliteDir || !existsSync(join(sqliteDir, 'binding.gyp'))) {
    return { action: 'skip', why: 'node_modules/better-sqlite3 (with its sources) is missing; run `npm install`' };
  }
  const electronVersion = versionOf(electronDir);
  const sqliteVersion = versionOf(sqliteDir);
  const file = join(outDir, BINDING_NAME);
  const stampFile = join(outDir, 'stamp.json');
  if (!force && existsSync(file) && existsSync(stampFile)) {
    try {
      const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
      if (stamp.electron === electronVersion && stamp.betterSqlite3 === sqliteVersion && stamp.arch === process.arch) {
        return { action: 'up-to-date', file };
      }
    } catch {
      /* rebuild */
    }
  }
  return { action: 'build', electronVersion, sqliteVersion, sqliteDir, file, stampFile };
}

/** npm's bundled node-gyp (as scripts/build-native.mjs finds it). */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = resolve(dirname(process.execPath), '..');
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

function build(plan) {
  const gyp = findNodeGyp();
  if (!gyp) return 'node-gyp was not found (it comes with npm)';
  // Build in a copy of the package, so node_modules/better-sqlite3/build (Node's ABI) stays as it is.
  const work = join(plan.file, '..', 'build-better-sqlite3');
  rmSync(work, { recursive: true, force: true });
  cpSync(plan.sqliteDir, work, { recursive: true, filter: (src) => !/[\\/](build|node_modules)$/.test(src) });
  const res = spawnSync(
    process.execPath,
    [gyp, 'rebuild', '--release', `--target=${plan.electronVersion}`, `--arch=${process.arch}`, '--dist-url=https://electronjs.org/headers'],
    { cwd: work, timeout: TIMEOUT_MS, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const built = join(work, 'build', 'Release', BINDING_NAME);
  if (res.status !== 0 || !existsSync(built)) {
    const lines = `${res.stderr ?? ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
    return (lines.find((l) => /error|not found|ENOTFOUND|ETIMEDOUT/i.test(l)) ?? lines.at(-1) ?? `exit ${res.status}`).slice(0, 200);
  }
  cpSync(built, plan.file);
  writeFileSync(plan.stampFile, JSON.stringify({ electron: plan.electronVersion, betterSqlite3: plan.sqliteVersion, arch: process.arch }));
  rmSync(work, { recursive: true, force: true });
  return null;
}

function main() {
  if (process.env.IDDPM_SKIP_ELECTRON_NATIVE && process.env.IDDPM_SKIP_ELECTRON_NATIVE !== '0') {
    note('Electron build of better-sqlite3 skipped (IDDPM_SKIP_ELECTRON_NATIVE).');
    return;
  }
  const plan = planElectronNative({
    electronDir: process.env.IDDPM_ELECTRON_DIR || packageDir('electron'),
    sqliteDir: packageDir('better-sqlite3'),
    force: process.argv.includes('--force'),
  });
  if (plan.action === 'skip') {
    note(`Electron build of better-sqlite3 skipped: ${plan.why}.`);
    return;
  }
  if (plan.action === 'up-to-date') {
    note(`Electron build of better-sqlite3 up to date (native/electron/${BINDING_NAME}).`);
    return;
  }
  note(`building better-sqlite3 ${plan.sqliteVersion} for Electron ${plan.electronVersion} (native/electron/)...`);
  mkdirSync(dirname(plan.file), { recursive: true });
  const failure = build(plan);
  if (failure) {
    note(`Electron build of better-sqlite3 failed (${failure}); the desktop window will say so at start. ` +
      'Fix: with network access and a C++ toolchain, run `npm run build:electron-native`. The CLI and web face are unaffected.');
  } else {
    note(`Electron build of better-sqlite3 ready (native/electron/${BINDING_NAME}).`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    main();
  } catch (err) {
    note(`Electron build of better-sqlite3 skipped (${err?.message ?? err}).`);
  }
  process.exit(0);
}
