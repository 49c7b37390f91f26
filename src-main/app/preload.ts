/**
 * Preload (sandboxed, CommonJS): exposes the typed `studio` bridge to the renderer.
 * Only whitelisted channels are reachable; the renderer never sees ipcRenderer itself.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_CHANNELS, type StudioBridge } from '../../src-shared/bridge';

const studio: StudioBridge = {
  version: () => ipcRenderer.invoke(BRIDGE_CHANNELS.version) as Promise<string>,
};

contextBridge.exposeInMainWorld('studio', studio);
