/**
 * Preload (sandboxed, CommonJS): exposes the typed `studio` bridge (src-shared/bridge.ts) to the renderer.
 * Only the studio's channels are reachable; the renderer never sees ipcRenderer itself. Replies come as
 * `{ result }` or `{ error: ApiError }`; errors reject with the plain ApiError object (contextBridge keeps
 * plain objects intact, where it would strip an Error's extra fields).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { BRIDGE_CHANNELS, type SampleSetExport, type StudioBridge } from '../../src-shared/bridge';
import { API_METHODS, type ApiError, type StudioApi, type StudioEvent } from '../../src-shared/protocol';

type Reply = { result: unknown } | { error: ApiError };

async function unwrap(reply: Promise<unknown>): Promise<unknown> {
  const r = (await reply) as Reply;
  if (r && typeof r === 'object' && 'error' in r) throw { ...r.error };
  return (r as { result: unknown }).result;
}

/** Every StudioApi method, each a call on its own channel (`studio:<method>`). */
const methods = Object.fromEntries(
  API_METHODS.map((method) => [
    method,
    (...params: unknown[]) => unwrap(ipcRenderer.invoke(`${BRIDGE_CHANNELS.methodPrefix}${method}`, ...params)),
  ]),
) as unknown as StudioApi;

const studio: StudioBridge = {
  ...methods,
  subscribe(handler: (e: StudioEvent) => void): () => void {
    const listener = (_event: IpcRendererEvent, e: StudioEvent) => handler(e);
    ipcRenderer.on(BRIDGE_CHANNELS.event, listener);
    return () => {
      ipcRenderer.removeListener(BRIDGE_CHANNELS.event, listener);
    };
  },
  exportSampleSet: (setId: number) => unwrap(ipcRenderer.invoke(BRIDGE_CHANNELS.exportSampleSet, setId)) as Promise<SampleSetExport | null>,
};

contextBridge.exposeInMainWorld('studio', studio);
