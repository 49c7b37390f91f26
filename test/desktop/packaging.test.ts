/**
 * The desktop app's files: the icon set rasterised from resources/icon.svg, the electron-builder config pointing at
 * files that exist, and the postinstall step that builds better-sqlite3 for Electron deciding from the files on disk
 * (here, with no Electron binary, it must skip with one line and leave the install green).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { planElectronNative } from '../../scripts/build-electron-native.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'iddpm-packaging-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the app icon', () => {
  it('has an SVG source and every PNG size, square, with a transparent corner', () => {
    expect(readFileSync(path.join(root, 'resources', 'icon.svg'), 'utf8')).toMatch(/<svg[^>]+viewBox="0 0 1024 1024"/);
    const files: [string, number][] = [16, 24, 32, 48, 64, 128, 256, 512].map((n) => [`icons/${n}x${n}.png`, n]);
    files.push(['icon.png', 1024]);
    for (const [file, size] of files) {
      const png = PNG.sync.read(readFileSync(path.join(root, 'resources', file)));
      expect([png.width, png.height], file).toEqual([size, size]);
      expect(png.data[3], `${file}: top-left alpha`).toBe(0);
      const mid = (Math.floor(size / 2) * size + Math.floor(size / 4)) * 4;
      expect(png.data[mid + 3], `${file}: the tile is opaque`).toBe(255);
    }
  });
});

describe('electron-builder.yml', () => {
  const yml = readFileSync(path.join(root, 'electron-builder.yml'), 'utf8');
  it('packages for Linux, macOS and Windows with icons that exist', () => {
    for (const os of ['linux', 'mac', 'win']) expect(yml).toMatch(new RegExp(`^${os}:`, 'm'));
    const icons = [...yml.matchAll(/^\s+icon: (\S+)/gm)].map((m) => m[1]);
    expect(icons.length).toBe(3);
    for (const icon of icons) expect(existsSync(path.join(root, icon)), icon).toBe(true);
  });
  it('keeps node_modules/better-sqlite3 built for Node and ships the Electron build', () => {
    expect(yml).toMatch(/^npmRebuild: false$/m);
    expect(yml).toContain('native/electron/better_sqlite3.node');
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['dist']).toContain('electron-builder --config electron-builder.yml');
    expect(pkg.scripts['postinstall']).toContain('scripts/build-electron-native.mjs');
  });
});

describe('the Electron build of better-sqlite3 (postinstall)', () => {
  const sqliteDir = path.join(tmp, 'better-sqlite3');
  mkdirSync(sqliteDir, { recursive: true });
  writeFileSync(path.join(sqliteDir, 'package.json'), JSON.stringify({ version: '12.6.2' }));
  writeFileSync(path.join(sqliteDir, 'binding.gyp'), '{}');

  function electronPackage(name: string, withBinary: boolean): string {
    const dir = path.join(tmp, name);
    mkdirSync(path.join(dir, 'dist'), { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ version: '45.5.0' }));
    if (withBinary) {
      writeFileSync(path.join(dir, 'path.txt'), 'electron');
      writeFileSync(path.join(dir, 'dist', 'electron'), '');
    }
    return dir;
  }

  it('skips without an Electron binary, builds with one, and is up to date after a matching build', () => {
    const outDir = path.join(tmp, 'out');
    expect(planElectronNative({ electronDir: path.join(tmp, 'none'), sqliteDir, outDir })).toMatchObject({ action: 'skip' });
    expect(planElectronNative({ electronDir: electronPackage('no-binary', false), sqliteDir, outDir })).toMatchObject({
      action: 'skip',
      why: expect.stringContaining('no Electron binary'),
    });
    const withBinary = electronPackage('with-binary', true);
    expect(planElectronNative({ electronDir: withBinary, sqliteDir, outDir })).toMatchObject({ action: 'build', electronVersion: '45.5.0', sqliteVersion: '12.6.2' });
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'better_sqlite3.node'), '');
    writeFileSync(path.join(outDir, 'stamp.json'), JSON.stringify({ electron: '45.5.0', betterSqlite3: '12.6.2', arch: process.arch }));
    expect(planElectronNative({ electronDir: withBinary, sqliteDir, outDir })).toMatchObject({ action: 'up-to-date' });
    expect(planElectronNative({ electronDir: withBinary, sqliteDir, outDir, force: true })).toMatchObject({ action: 'build' });
    // Another Electron version needs another build.
    writeFileSync(path.join(outDir, 'stamp.json'), JSON.stringify({ electron: '44.0.0', betterSqlite3: '12.6.2', arch: process.arch }));
    expect(planElectronNative({ electronDir: withBinary, sqliteDir, outDir })).toMatchObject({ action: 'build' });
  });

  it('as a postinstall step without the binary: exit 0, one line, nothing built or downloaded', () => {
    const res = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-electron-native.mjs')], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, IDDPM_ELECTRON_DIR: electronPackage('postinstall', false) },
    });
    expect(res.status).toBe(0);
    expect(res.stdout.trim().split('\n')).toEqual([
      '[iddpm-studio] Electron build of better-sqlite3 skipped: there is no Electron binary here (the CLI and web face use the Node build).',
    ]);
  });
});
