#!/usr/bin/env node
// npm start: open the desktop studio (Electron) on the built app in out/.
// Where no Electron binary could be installed (offline machines, CI, headless GPU boxes), say so and
// exit non-zero; the web face (`iddpm serve`) arrives with the run service.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fail = (why) => {
  console.error(`iddpm-studio: cannot open the desktop window: ${why}`);
  console.error('iddpm-studio: the web face (`iddpm serve`, open it in a browser) arrives with the run service.');
  process.exit(1);
};

/** Path of the Electron executable, without triggering electron's own lazy download (require('electron') would). */
function electronBinary() {
  if (process.env.ELECTRON_EXEC_PATH) return process.env.ELECTRON_EXEC_PATH;
  let pkgDir;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return fail('the electron package is not installed (run `npm install`).');
  }
  const pathTxt = join(pkgDir, 'path.txt');
  if (!existsSync(pathTxt)) {
    return fail('the Electron binary was never downloaded (no network at install time?). ' +
      'With network access, run `npx install-electron` and try again.');
  }
  const bin = join(pkgDir, 'dist', readFileSync(pathTxt, 'utf8').trim());
  if (!existsSync(bin)) return fail(`the Electron binary is missing at ${bin}.`);
  return bin;
}

const bin = electronBinary();

if (!existsSync(join(root, 'out/main/main.js'))) {
  console.log('iddpm-studio: building the app first (npm run build)...');
  const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) fail('the build failed.');
}

const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE;
const child = spawn(bin, [root, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env });
child.on('error', (err) => fail(`Electron could not be started (${err.message}).`));
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
