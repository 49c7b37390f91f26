/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { StudioBridge } from '../../src-shared/bridge';

declare global {
  interface Window {
    /** Present inside the Electron shell (exposed by the preload); absent in a plain browser. */
    readonly studio?: StudioBridge;
  }
}
