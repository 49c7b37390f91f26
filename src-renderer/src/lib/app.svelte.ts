/**
 * App-wide state: the client, where the user is, and the connection. One module-level object of runes
 * so any component can read it without prop drilling; views own their own data.
 */
import type { ConnectionState, StudioClient } from '../api';

export type ViewId = 'runs' | 'new-run' | 'run-detail' | 'sample' | 'gallery' | 'evaluate';

export interface NavTarget {
  view: ViewId;
  /** The run a view opens on (Run detail, and the Sample/Evaluate/Gallery shortcuts). */
  runId?: string | null;
  /** Gallery: highlight a set (e.g. a job's result). */
  setId?: number | null;
}

class AppState {
  view: ViewId = $state('runs');
  runId: string | null = $state(null);
  setId: number | null = $state(null);
  connection: ConnectionState = $state('connecting');
  /** Whether the connection was ever open, so 'closed' after that reads as "reconnecting". */
  everOpen = $state(false);
  /**
   * Bumped on every reconnect. Views read it inside their fetch effect, so a reconnect re-runs the
   * backfill (events sent while the socket was down are lost).
   */
  epoch = $state(0);

  go(target: NavTarget): void {
    this.view = target.view;
    if (target.runId !== undefined) this.runId = target.runId;
    this.setId = target.setId ?? null;
  }
}

export const app = new AppState();

let client: StudioClient | null = null;

/** Install the client once at startup and follow its connection. */
export function installClient(c: StudioClient): void {
  client = c;
  c.onConnection((s) => {
    if (s === 'open') {
      if (app.everOpen) app.epoch += 1;
      app.everOpen = true;
    }
    app.connection = s;
  });
}

export function api(): StudioClient {
  if (!client) throw new Error('studio client not installed (main.ts installs it before mounting)');
  return client;
}

/**
 * A URL the page can load for an asset the face serves. In the web face, file routes need the token
 * like every other request, so it is added to same-origin paths that lack it.
 */
export function assetUrl(url: string): string {
  const c = client;
  if (!c || c.face !== 'web' || !c.token || !url.startsWith('/') || /[?&]token=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(c.token)}`;
}
