#!/usr/bin/env node
// npm start: open the desktop studio (Electron) on the built app in out/.
// Where no Electron binary could be installed (offline machines, CI, headless GPU boxes), say why and start
// the web face instead (`iddpm serve`, building the renderer first if needed), which prints the URL to open.
// Extra arguments go to Electron, or to `iddpm serve` (e.g. `npm start -- --port 8080 --data DIR`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/** Path of the Electron executable, or why there is none (without triggering electron's lazy download). */
function electronBinary() {
  if (process.env.ELECTRON_EXEC_PATH) return { bin: process.env.ELECTRON_EXEC_PATH };
  let pkgDir;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { why: 'the electron package is not installed (run `npm install`).' };
  }
  const pathTxt = join(pkgDir, 'path.txt');
  if (!existsSync(pathTxt)) {
    return {
      why: 'the Electron binary was never downloaded (no network at install time?). ' +
        'With network access, run `npx install-electron` and try again.',
    };
  }
  const bin = join(pkgDir, 'dist', readFileSync(pathTxt, 'utf8').trim());
  if (!existsSync(bin)) return { why: `the Electron binary is missing at ${bin}.` };
  return { bin };
}

function run(cmd, cmdArgs) {
  const child = spawn(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: childEnv() });
  // Ctrl-C reaches the child through the terminal's process group; a SIGTERM to us is passed on.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  process.on('SIGINT', () => {});
  child.on('error', (err) => {
    console.error(`iddpm-studio: could not start ${cmd} (${err.message}).`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(signal ? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1) : (code ?? 0)));
  return child;
}

function childEnv() {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  return env;
}

function build(what, cmd, cmdArgs) {
  console.log(`iddpm-studio: building ${what} first (${[cmd, ...cmdArgs].join(' ')})...`);
  const b = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) {
    console.error('iddpm-studio: the build failed; fix the errors above and run `npm start` again.');
    process.exit(1);
  }
}

const electron = electronBinary();
if (electron.bin) {
  if (!existsSync(join(root, 'out/main/main.js'))) build('the app', 'npm', ['run', 'build']);
  run(electron.bin, [root, ...args]);
} else {
  console.error(`iddpm-studio: cannot open the desktop window: ${electron.why}`);
  console.error('iddpm-studio: starting the web face instead (`iddpm serve`); open the URL it prints in a browser.');
  if (!existsSync(join(root, 'out/renderer/index.html'))) build('the renderer', 'npx', ['electron-vite', 'build']);
  run(process.execPath, [join(root, 'bin/iddpm.mjs'), 'serve', ...args]);
}
