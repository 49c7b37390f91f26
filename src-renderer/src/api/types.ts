/**
 * The client side of the StudioApi contract, as every view sees it: the requests of StudioApi plus a
 * live event feed and the connection state. Two implementations (WebSocket for the web face, the
 * preload's `window.studio` for Electron) hide the transport from the views.
 */
import type { ApiError, StudioApi, StudioEvent } from '../../../src-shared/protocol';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface StudioClient extends StudioApi {
  /** Receive every StudioEvent; returns the unsubscribe function. */
  subscribe(handler: (e: StudioEvent) => void): () => void;
  /**
   * Follow the connection. The handler is called at once with the current state and then on every
   * change; a move from 'closed'/'connecting' back to 'open' after the first open is a reconnect, and
   * views re-fetch (backfill) what they show, since events sent while disconnected are lost.
   */
  onConnection(handler: (state: ConnectionState) => void): () => void;
  /** Which face serves this client (decides how exports and asset URLs work). */
  readonly face: 'electron' | 'web';
  /** Start an export of a sample set (Electron only: a save dialog in the main process). */
  exportSampleSet?(setId: number): Promise<unknown>;
  /** The token of the web face (for /export links and asset URLs), or null in Electron. */
  readonly token: string | null;
}

/** A rejected request: an Error whose message is the server's, with the ApiError fields attached. */
export class StudioApiError extends Error implements ApiError {
  readonly code: ApiError['code'];
  readonly field?: string;
  readonly problems?: ApiError['problems'];
  constructor(e: ApiError) {
    super(e.message);
    this.name = 'StudioApiError';
    this.code = e.code;
    if (e.field !== undefined) this.field = e.field;
    if (e.problems !== undefined) this.problems = e.problems;
  }
}

/** The message of any rejection, for showing to the user. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}
