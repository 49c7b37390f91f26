/**
 * What the Electron preload exposes as `window.studio`: the StudioApi methods and an event feed, plus
 * optional extras only the desktop has. Kept as a plain type module so both env.d.ts and the client use it.
 */
import type { StudioApi, StudioEvent } from '../../src-shared/protocol';

export interface ElectronStudio extends StudioApi {
  subscribe(handler: (e: StudioEvent) => void): () => void;
  onConnection?(handler: (state: 'connecting' | 'open' | 'closed') => void): () => void;
  /** Save a sample set (PNGs + manifest) through a native dialog. */
  exportSampleSet?(setId: number): Promise<unknown>;
  /** The older placeholder bridge's method; kept optional so both shapes type-check. */
  version?(): Promise<string>;
}
