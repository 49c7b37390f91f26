/** Picks the transport: the Electron preload's bridge when present, else the web face's WebSocket. */
import { createElectronClient, hasElectronStudio } from './electronClient';
import { createWsClient, webFaceEndpoint } from './wsClient';
import type { StudioClient } from './types';

export type { ConnectionState, StudioClient } from './types';
export { StudioApiError, errorMessage } from './types';

export function createStudioClient(): StudioClient {
  if (hasElectronStudio(window) && window.studio) return createElectronClient(window.studio);
  const { url, token } = webFaceEndpoint(window.location);
  return createWsClient({ url, token });
}
