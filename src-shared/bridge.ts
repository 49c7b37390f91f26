/**
 * What the Electron preload exposes to the renderer as `window.studio`.
 *
 * A deliberately small placeholder: the full StudioApi contract (requests, replies, events)
 * arrives with the run service and will live in `src-shared/protocol.ts`. Pure types only:
 * no Node, DOM, Electron or tfjs.
 */
export interface StudioBridge {
  /** The studio's version string (package.json "version"), as reported by the main side. */
  version(): Promise<string>;
}

/** IPC channel names used between preload and main. */
export const BRIDGE_CHANNELS = {
  version: 'studio:version',
} as const;

/** The view names of the app frame, in navigation order (see docs/ARCHITECTURE.md). */
export const VIEW_NAMES = ['Runs', 'New run', 'Sample', 'Gallery', 'Evaluate'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];
