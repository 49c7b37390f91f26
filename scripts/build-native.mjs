#!/usr/bin/env node
// postinstall: build the native kernels (native/, a Node-API addon) with node-gyp; never fail the install.
// Without a C++ toolchain or Node's headers the studio runs on tfjs's wasm kernels instead: one line says so.
//
// Offline-safe: node-gyp is npm's bundled copy, and Node's headers come from --nodedir (npm's `nodedir` config,
// or <node prefix>/include/node when the distro ships them), so nothing is downloaded when they are present.
// Skips the compile when native/build holds a build of the same sources (stamp file). IDDPM_SKIP_NATIVE=1 skips
// everything; IDDPM_NATIVE_FORCE=1 rebuilds.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TIMEOUT_MS = 10 * 60_000;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const addon = join(nativeDir, 'build', 'Release', 'iddpm_native.node');
const stampFile = join(nativeDir, 'build', 'iddpm-stamp.json');
const note = (msg) => console.log(`[iddpm-studio] ${msg}`);
const FALLBACK = 'training uses the tfjs wasm kernels instead';

function sourceHash() {
  const h = createHash('sha256');
  const files = ['binding.gyp', ...readdirSync(join(nativeDir, 'src')).sort().map((f) => join('src', f))];
  for (const f of files) h.update(f).update(readFileSync(join(nativeDir, f)));
  h.update(process.platform).update(process.arch);
  return h.digest('hex').slice(0, 16);
}

/** npm's bundled node-gyp: npm_config_node_gyp (set by npm for scripts), next to npm_execpath, or beside node. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not a project dependency */
  }
  const prefix = resolve(dirname(process.execPath), '..');
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

/** --nodedir for offline builds: npm's config if set, else this node's own prefix when it has the headers. */
function findNodeDir() {
  const configured = process.env.npm_config_nodedir;
  if (configured && existsSync(join(configured, 'include', 'node', 'node_api.h'))) return configured;
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return null; // node-gyp will look in its cache and download the headers if it can
}

function lastError(text) {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const err = lines.find((l) => /error:|Error:|not found|No such file|ERR!.*(stack Error|find Python)/.test(l) && !/gyp ERR! (cwd|node -v|node-gyp -v|System|command|not ok)/.test(l));
  return (err ?? lines.at(-1) ?? 'unknown error').replace(/^gyp ERR! (stack )?/, '').slice(0, 200);
}

try {
  if (process.env.IDDPM_SKIP_NATIVE && process.env.IDDPM_SKIP_NATIVE !== '0') {
    note(`native kernels skipped (IDDPM_SKIP_NATIVE); ${FALLBACK}.`);
    process.exit(0);
  }
  if (!existsSync(join(nativeDir, 'binding.gyp'))) {
    note(`native/binding.gyp not found; ${FALLBACK}.`);
    process.exit(0);
  }
  const hash = sourceHash();
  if (!process.env.IDDPM_NATIVE_FORCE && existsSync(addon) && existsSync(stampFile)) {
    try {
      if (JSON.parse(readFileSync(stampFile, 'utf8')).hash === hash) {
        note('native kernels up to date (native/build/Release/iddpm_native.node).');
        process.exit(0);
      }
    } catch {
      /* rebuild */
    }
  }
  const gyp = findNodeGyp();
  if (!gyp) {
    note(`native kernels not built (node-gyp not found next to npm); ${FALLBACK}.`);
    process.exit(0);
  }
  const args = [gyp, 'rebuild', '--jobs=max'];
  const nodedir = findNodeDir();
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  const started = Date.now();
  const res = spawnSync(process.execPath, args, {
    cwd: nativeDir,
    timeout: TIMEOUT_MS,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status === 0 && existsSync(addon)) {
    // Load it once here: a build that cannot load (wrong headers, missing symbols) counts as a failure.
    const check = spawnSync(process.execPath, ['-e', `const m=require(${JSON.stringify(addon)});const i=m.info();console.log(i.threads+' threads, '+i.microKernel)`], { encoding: 'utf8', timeout: 30_000 });
    if (check.status !== 0) {
      note(`native kernels built but do not load (${lastError(check.stderr || '')}); ${FALLBACK}.`);
      process.exit(0);
    }
    writeFileSync(stampFile, JSON.stringify({ hash, node: process.version, builtAt: new Date().toISOString() }) + '\n');
    note(`native kernels built in ${((Date.now() - started) / 1000).toFixed(0)} s (${check.stdout.trim()}).`);
  } else {
    const why = res.error?.code === 'ETIMEDOUT' || res.signal ? `timed out after ${TIMEOUT_MS / 60000} min` : lastError(`${res.stdout ?? ''}\n${res.stderr ?? ''}`);
    note(`native kernels not built (${why}); ${FALLBACK}.`);
  }
} catch (err) {
  note(`native kernels not built (${err?.message ?? err}); ${FALLBACK}.`);
}
process.exit(0);
