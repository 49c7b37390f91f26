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
 *   #/studies                   the built-in studies and the studies launched
 *   #/studies/<id>              a study's report
 *
 * Pure functions: the app state (app.svelte.ts) applies them to `location`.
 */

export type ViewId = 'runs' | 'new-run' | 'run-detail' | 'sample' | 'gallery' | 'evaluate' | 'studies' | 'study';

export interface Route {
  view: ViewId;
  runId: string | null;
  setId: number | null;
  /** The study whose report is open ('study' only). */
  studyId: string | null;
}

const PLAIN_VIEWS: Record<string, ViewId> = {
  runs: 'runs',
  'new-run': 'new-run',
  sample: 'sample',
  gallery: 'gallery',
  evaluate: 'evaluate',
  studies: 'studies',
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
  const none = { runId: null, setId: null, studyId: null };
  if (path[0] === 'runs' && path.length === 2) return { ...none, view: 'run-detail', runId: safeDecode(path[1]) };
  if (path[0] === 'studies' && path.length === 2) return { ...none, view: 'study', studyId: safeDecode(path[1]) };
  const view = path.length === 1 ? PLAIN_VIEWS[path[0]] : undefined;
  if (!view) return { ...none, view: 'runs' };
  if (view === 'sample' || view === 'evaluate') return { ...none, view, runId: run };
  if (view === 'gallery') return { ...none, view, runId: run, setId: set };
  return { ...none, view };
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
    case 'study':
      return route.studyId ? `#/studies/${encodeURIComponent(route.studyId)}` : '#/studies';
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
