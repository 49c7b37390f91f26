import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = import.meta.dirname;

/**
 * Native and heavy modules stay outside the main bundle and are loaded from node_modules at run time:
 * better-sqlite3 (native addon) and every @tensorflow/* package (native bindings, wasm files).
 */
const mainExternals: (string | RegExp)[] = ['better-sqlite3', /^@tensorflow\//];

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      externalizeDeps: true,
      rolldownOptions: {
        input: { main: resolve(root, 'src-main/app/main.ts') },
        external: mainExternals,
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      // Sandboxed preload scripts must be CommonJS and self-contained.
      rolldownOptions: {
        input: { preload: resolve(root, 'src-main/app/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    base: './',
    plugins: [svelte({ configFile: false })],
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      rolldownOptions: {
        input: { index: resolve(root, 'src-renderer/index.html') },
      },
    },
  },
});
