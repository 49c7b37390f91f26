/**
 * The URL of each place in the studio, as a hash route, so a reload keeps the place, Back and Forward work and a run
 * can be linked. Hash routes because both faces serve one page: the web face's `/?token=…` keeps its query, and
 * Electron's `studio://app/index.html` never asks its protocol handler for another path.
 *
 *   #/runs                      the runs table
 *   #/runs/<id>                 a run's detail
 *   #/new-run
 *   #/sample?run=<id>           Sample, opened on a run
 *   #/evaluate?run=<id>
 *   #/gallery[?run=<id>&set=N]  the gallery, filtered to a run and highlighting a set
 *
 * Pure functions: the app state (app.svelte.ts) applies them to `location`.
 */

export type ViewId = 'runs' | 'new-run' | 'run-detail' | 'sample' | 'gallery' | 'evaluate';

export interface Route {
  view: ViewId;
  runId: string | null;
  setId: number | null;
}

const PLAIN_VIEWS: Record<string, ViewId> = {
  runs: 'runs',
  'new-run': 'new-run',
  sample: 'sample',
  gallery: 'gallery',
  evaluate: 'evaluate',
};

/** The route a hash names; anything unknown (or empty) is the runs table. */
export function parseRoute(hash: string): Route {
  const body = hash.replace(/^#\/?/, '');
  const q = body.indexOf('?');
  const path = (q < 0 ? body : body.slice(0, q)).split('/').filter(Boolean);
  const params = new URLSearchParams(q < 0 ? '' : body.slice(q + 1));
  const run = params.get('run') || null;
  const setText = params.get('set');
  const set = setText !== null && /^\d+$/.test(setText) ? Number(setText) : null;
  if (path[0] === 'runs' && path.length === 2) return { view: 'run-detail', runId: safeDecode(path[1]), setId: null };
  const view = path.length === 1 ? PLAIN_VIEWS[path[0]] : undefined;
  if (!view) return { view: 'runs', runId: null, setId: null };
  if (view === 'sample' || view === 'evaluate') return { view, runId: run, setId: null };
  if (view === 'gallery') return { view, runId: run, setId: set };
  return { view, runId: null, setId: null };
}

/** The hash of a route: only what the view reads, so equal places have equal URLs. */
export function formatRoute(route: Route): string {
  const run = route.runId ? encodeURIComponent(route.runId) : null;
  switch (route.view) {
    case 'run-detail':
      return run ? `#/runs/${run}` : '#/runs';
    case 'sample':
    case 'evaluate':
      return run ? `#/${route.view}?run=${run}` : `#/${route.view}`;
    case 'gallery': {
      const parts = [run ? `run=${run}` : '', route.setId !== null ? `set=${route.setId}` : ''].filter(Boolean);
      return parts.length ? `#/gallery?${parts.join('&')}` : '#/gallery';
    }
    default:
      return `#/${route.view}`;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
