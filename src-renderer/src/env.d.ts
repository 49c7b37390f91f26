/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { ElectronStudio } from './electronStudio';

declare global {
  interface Window {
    /** Present inside the Electron shell (exposed by the preload); absent in a plain browser. */
    readonly studio?: ElectronStudio;
  }
}
