#!/usr/bin/env node
// postinstall: try once to fetch the Electron binary; never fail the install.
// Offline machines (CI, headless GPU boxes) cannot download it: the studio then runs
// through its web face instead. Capped at ~20 s so an offline install stays fast.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const TIMEOUT_MS = 20_000;
const note = (msg) => console.log(`[iddpm-studio] ${msg}`);

try {
  if (process.env.IDDPM_SKIP_ELECTRON_DOWNLOAD || process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    note('Electron download skipped by environment; the studio falls back to its web face.');
    process.exit(0);
  }
  const require = createRequire(import.meta.url);
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve('electron/package.json'));
  } catch {
    note('electron is not installed (production install?); the studio falls back to its web face.');
    process.exit(0);
  }
  const pathTxt = join(pkgDir, 'path.txt');
  if (existsSync(pathTxt)) {
    note('Electron binary already present.');
    process.exit(0);
  }
  const installJs = join(pkgDir, 'install.js');
  if (!existsSync(installJs)) {
    note('electron/install.js not found; the studio falls back to its web face.');
    process.exit(0);
  }
  const res = spawnSync(process.execPath, [installJs], {
    cwd: pkgDir,
    timeout: TIMEOUT_MS,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (res.status === 0 && existsSync(pathTxt)) {
    note('Electron binary installed.');
  } else {
    const why = res.error?.code === 'ETIMEDOUT' || res.signal
      ? `timed out after ${TIMEOUT_MS / 1000} s`
      : (res.stderr || '').split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('at '))
        || `exit ${res.status}`;
    note(`Electron binary could not be downloaded (${why.slice(0, 160)}); ` +
      'the desktop window is unavailable, the studio falls back to its web face.');
  }
} catch (err) {
  note(`Electron check skipped (${err?.message ?? err}); the studio falls back to its web face.`);
}
process.exit(0);
