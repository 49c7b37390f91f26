/**
 * StudioClient over Electron IPC: the preload exposes `window.studio` with the StudioApi methods and
 * `subscribe`. IPC has no connection to lose, so the state is 'open' unless the preload reports more.
 */
import { API_METHODS, type ApiMethod, type StudioApi } from '../../../src-shared/protocol';
import type { ElectronStudio } from '../electronStudio';
import { StudioApiError, type StudioClient } from './types';

/** Whether `w.studio` is the full bridge (an older preload exposed only `version()`). */
export function hasElectronStudio(w: Window): boolean {
  const s = w.studio as Partial<ElectronStudio> | undefined;
  return !!s && typeof s.listRuns === 'function' && typeof s.subscribe === 'function';
}

/** IPC errors arrive as plain objects or Errors with the ApiError fields; normalise them. */
function normaliseError(e: unknown): Error {
  if (e instanceof StudioApiError) return e;
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) return new StudioApiError(e as never);
  return e instanceof Error ? e : new Error(String(e));
}

export function createElectronClient(studio: ElectronStudio): StudioClient {
  const api = {} as Record<ApiMethod, (...args: unknown[]) => Promise<unknown>>;
  for (const m of API_METHODS) {
    api[m] = (...args: unknown[]) =>
      (studio[m] as (...a: unknown[]) => Promise<unknown>)(...args).catch((e: unknown) => {
        throw normaliseError(e);
      });
  }
  return {
    ...(api as unknown as StudioApi),
    face: 'electron',
    token: null,
    subscribe: (handler) => studio.subscribe(handler),
    onConnection(handler) {
      if (studio.onConnection) return studio.onConnection(handler);
      handler('open');
      return () => {};
    },
    exportSampleSet: studio.exportSampleSet ? (id: number) => studio.exportSampleSet!(id) : undefined,
  };
}
