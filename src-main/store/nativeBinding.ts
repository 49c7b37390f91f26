/**
 * Which build of better-sqlite3's native module the store loads, and what to say when it cannot.
 *
 * node_modules/better-sqlite3 is compiled for the system Node (CLI, web face, tests). The Electron main process has
 * another NODE_MODULE_VERSION, so the app points better-sqlite3's `nativeBinding` option at a second build made for
 * Electron (native/electron/better_sqlite3.node, by scripts/build-electron-native.mjs). Nothing is set in Node.
 */

let binding: string | undefined;

/** Loads the native module from `file` for every connection opened after this (undefined: the package's own build). */
export function useSqliteNativeBinding(file: string | undefined): void {
  binding = file;
}

export function sqliteNativeBinding(): string | undefined {
  return binding;
}

/** The runtime the store runs in, as a user knows it. */
function runtimeName(): string {
  return process.versions['electron'] ? `Electron ${process.versions['electron']}` : `Node.js ${process.versions.node}`;
}

/**
 * One line with the cause and the fix when `err` is a failure to load the native module (built for another Node ABI,
 * another platform, or missing); null for any other error.
 */
export function nativeModuleProblem(err: unknown): string | null {
  const e = err as { code?: string; message?: string };
  const msg = String(e?.message ?? err);
  const fix = process.versions['electron']
    ? 'run `npm run build:electron-native` in the app folder (needs network for Electron\'s headers and a C++ toolchain), then start again'
    : 'run `npm rebuild better-sqlite3`, then try again';
  const abi = /NODE_MODULE_VERSION (\d+)[\s\S]*NODE_MODULE_VERSION (\d+)/.exec(msg);
  if (abi) {
    return `better-sqlite3's native module was built for another runtime (NODE_MODULE_VERSION ${abi[1]}; ${runtimeName()} needs ${abi[2]}): ${fix}.`;
  }
  const isNativeFile = /\.node\b/.test(msg);
  if (e?.code === 'ERR_DLOPEN_FAILED' || (isNativeFile && /invalid ELF header|wrong ELF class|file too short|not a valid Win32|not a mach-o|incompatible architecture/i.test(msg))) {
    const first = msg.split('\n')[0].trim();
    return `better-sqlite3's native module cannot be loaded in ${runtimeName()} (${first}): ${fix}.`;
  }
  if (e?.code === 'MODULE_NOT_FOUND' && isNativeFile) {
    return `better-sqlite3's native module is missing (${msg.split('\n')[0].trim()}): ${fix}.`;
  }
  return null;
}
