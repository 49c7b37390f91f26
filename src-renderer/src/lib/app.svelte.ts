/**
 * App-wide state: the client, where the user is, and the connection. One module-level object of runes
 * so any component can read it without prop drilling; views own their own data.
 */
import { untrack } from 'svelte';
import type { ConnectionState, StudioClient } from '../api';
import { formatRoute, parseRoute, type Route, type ViewId } from './routes';

export type { ViewId } from './routes';

export interface NavTarget {
  view: ViewId;
  /** The run a view opens on (Run detail, and the Sample/Evaluate/Gallery shortcuts). */
  runId?: string | null;
  /** Gallery: highlight a set (e.g. a job's result). */
  setId?: number | null;
  /** The study whose report to open. */
  studyId?: string | null;
}

class AppState {
  view: ViewId = $state('runs');
  runId: string | null = $state(null);
  setId: number | null = $state(null);
  studyId: string | null = $state(null);
  connection: ConnectionState = $state('connecting');
  /** Whether the connection was ever open, so 'closed' after that reads as "reconnecting". */
  everOpen = $state(false);
  /**
   * Bumped on every reconnect. Views read it inside their fetch effect, so a reconnect re-runs the
   * backfill (events sent while the socket was down are lost).
   */
  epoch = $state(0);

  /**
   * Opens a place as a new history entry (Back returns here). The run stays chosen across views unless the target
   * names another, so Sample and Evaluate open on the run last looked at.
   */
  go(target: NavTarget): void {
    const route = this.resolve(target);
    this.apply(route);
    const hash = formatRoute(route);
    if (typeof location !== 'undefined' && location.hash !== hash) location.hash = hash;
  }

  /** Updates the URL for the place shown (e.g. the run picked in Sample) without a new history entry. */
  replace(target: NavTarget): void {
    const route = this.resolve(target);
    this.apply(route);
    if (typeof location !== 'undefined' && location.hash !== formatRoute(route)) history.replaceState(history.state, '', formatRoute(route));
  }

  /** Follows the URL: at start, and on Back/Forward or an edited hash. */
  followLocation(): void {
    const route = parseRoute(location.hash);
    this.apply(route);
    const hash = formatRoute(route);
    if (location.hash !== hash) history.replaceState(history.state, '', hash);
  }

  private resolve(target: NavTarget): Route {
    // The gallery is filtered to a run only when asked to (a sample set's "open in gallery"), not by the nav.
    const sticky = target.view === 'gallery' ? null : this.runId;
    return { view: target.view, runId: target.runId !== undefined ? target.runId : sticky, setId: target.setId ?? null, studyId: target.studyId ?? null };
  }

  private apply(route: Route): void {
    this.view = route.view;
    if (route.runId !== null || route.view === 'run-detail') this.runId = route.runId;
    this.setId = route.setId;
    this.studyId = route.studyId;
  }
}

export const app = new AppState();

let client: StudioClient | null = null;

/**
 * For a view with a run picker (Sample, Evaluate), called while the component initialises: the URL follows the run
 * picked (so the page can be linked and reloaded), and Back/Forward to another run's URL picks that run.
 */
export function syncRunWithUrl(view: 'sample' | 'evaluate', get: () => string, set: (runId: string) => void): void {
  $effect(() => {
    const fromUrl = app.runId;
    if (fromUrl && fromUrl !== untrack(get)) set(fromUrl);
  });
  $effect(() => {
    const picked = get();
    if (picked && untrack(() => app.view) === view) app.replace({ view, runId: picked });
  });
}

/** Shows the place the URL names, and follows Back/Forward from then on. */
export function startRouting(): void {
  app.followLocation();
  window.addEventListener('hashchange', () => app.followLocation());
}

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
