/**
 * What the Electron preload exposes to the renderer as `window.studio`: every StudioApi method, the event
 * feed, and the desktop-only export to a folder. Pure types and channel names only: no Node, DOM, Electron
 * or tfjs.
 *
 * IPC shape: `ipcRenderer.invoke('studio:<method>', ...params)` resolves with `{ result }` or
 * `{ error: ApiError }` (ServerMessage without its id); the preload unwraps it and rejects with the plain
 * ApiError object. Events arrive on 'studio:event'.
 */
import type { StudioApi, StudioEvent } from './protocol';

/** Where exportSampleSet wrote the set: the folder and the files in it (PNGs + manifest.json). */
export interface SampleSetExport {
  folder: string;
  files: string[];
}

export interface StudioBridge extends StudioApi {
  subscribe(handler: (e: StudioEvent) => void): () => void;
  /** Asks for a folder (native dialog) and writes the set's PNGs and manifest.json there; null when cancelled. */
  exportSampleSet(setId: number): Promise<SampleSetExport | null>;
}

/** IPC channel names used between preload and main. */
export const BRIDGE_CHANNELS = {
  /** Prefix of the StudioApi request channels: `studio:<method>`. */
  methodPrefix: 'studio:',
  event: 'studio:event',
  exportSampleSet: 'studio:exportSampleSet',
} as const;

