/**
 * better-sqlite3 under two runtimes: the store opens it through `nativeBinding` when told to (the Electron app), and a
 * native module that cannot load (wrong ABI, not a library, missing) becomes one line with the fix, not a stack.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { nativeModuleProblem, openStore, StoreError, useSqliteNativeBinding } from '../../src-main/store';

const dir = mkdtempSync(path.join(tmpdir(), 'iddpm-native-binding-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => useSqliteNativeBinding(undefined));

function openError(file: string): StoreError {
  try {
    openStore(file).close();
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return e as StoreError;
  }
  throw new Error('openStore succeeded');
}

describe('the store with a chosen native binding', () => {
  it('opens the database through an explicitly named build of better-sqlite3', () => {
    // The package's own Node build, named by path, as main.ts names native/electron/better_sqlite3.node.
    const real = path.join(path.dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
    useSqliteNativeBinding(real);
    const store = openStore(path.join(dir, 'ok', 'studio.db'));
    expect(store.listRuns()).toEqual([]);
    store.close();
  });

  it('names the cause and the fix in one line when the binding is not a loadable library', () => {
    const bogus = path.join(dir, 'better_sqlite3.node');
    writeFileSync(bogus, 'this is not a shared library\n');
    useSqliteNativeBinding(bogus);
    const err = openError(path.join(dir, 'bogus', 'studio.db'));
    expect(err.code).toBe('native-module');
    expect(err.message).not.toContain('\n');
    expect(err.message).toContain(`Node.js ${process.versions.node}`);
    expect(err.message).toContain('npm rebuild better-sqlite3');
  });

  it('says the module is missing when the binding file does not exist', () => {
    useSqliteNativeBinding(path.join(dir, 'nowhere', 'better_sqlite3.node'));
    const err = openError(path.join(dir, 'missing', 'studio.db'));
    expect(err.code).toBe('native-module');
    expect(err.message).toMatch(/^better-sqlite3's native module is missing .*npm rebuild better-sqlite3/);
  });
});

describe('nativeModuleProblem', () => {
  it('reads both ABI numbers out of the dlopen error of a module built for another runtime', () => {
    // Node's own wording (src/node_binding.cc) when Electron 45's build is loaded by Node 20.
    const err = Object.assign(
      new Error(
        "The module '/app/native/electron/better_sqlite3.node'\nwas compiled against a different Node.js version using\n" +
          'NODE_MODULE_VERSION 140. This version of Node.js requires\nNODE_MODULE_VERSION 115. Please try re-compiling or re-installing\n' +
          'the module (for instance, using `npm rebuild` or `npm install`).',
      ),
      { code: 'ERR_DLOPEN_FAILED' },
    );
    const line = nativeModuleProblem(err)!;
    expect(line).toContain('NODE_MODULE_VERSION 140');
    expect(line).toContain(`Node.js ${process.versions.node} needs 115`);
    expect(line).not.toContain('\n');
  });

  it('leaves other errors alone', () => {
    expect(nativeModuleProblem(Object.assign(new Error('unable to open database file'), { code: 'SQLITE_CANTOPEN' }))).toBeNull();
    expect(nativeModuleProblem(Object.assign(new Error("Cannot find module 'left-pad'"), { code: 'MODULE_NOT_FOUND' }))).toBeNull();
  });
});
