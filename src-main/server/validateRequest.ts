/**
 * One gate for every StudioApi request, shared by the web face (WebSocket) and the Electron face (ipcMain):
 * the method must be one of API_METHODS, params an array of the right length, and each param of the right
 * shape (types, required ids). Deep checks (a run config's fields) stay with the service; this gate only
 * makes sure the service never sees a value of the wrong type. Errors thrown by the service are turned
 * into ApiError replies here too, so a bad request can never take a face down.
 */
import { API_METHODS, type ApiError, type ApiMethod, type StudioApi } from '../../src-shared/protocol';
import { runIdProblem, runNameProblem } from '../../src-shared/runId';
import { studyKindProblem, studySizeProblem } from '../../src-shared/studies';

/** The metric names the store can chart (MetricName in protocol.ts). */
const METRIC_NAMES: ReadonlySet<string> = new Set([
  'loss', 'mse', 'vb', 'gradNorm', 'lr', 'samplesPerSec', 'loss_q0', 'loss_q1', 'loss_q2', 'loss_q3',
]);
const API_ERROR_CODES: ReadonlySet<string> = new Set(['bad-request', 'not-found', 'conflict', 'internal']);
/** Largest chart point budget a client may ask for. */
const MAX_POINTS = 100_000;

export type ValidatedRequest = { ok: true; method: ApiMethod; params: unknown[] } | { ok: false; error: ApiError };

/** The reply of one request, in the shape of ServerMessage without its id (Electron IPC replies use it as is). */
export type ApiReply = { result: unknown } | { error: ApiError };

class BadParam extends Error {}

function fail(message: string): never {
  throw new BadParam(message);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A study id names a folder like a run id does (<data>/studies/<id>): the same rule. */
function studyId(v: unknown): string {
  const problem = runIdProblem(v);
  if (problem) fail(`studyId ${problem.replace(/'mnist-01'/g, "'importance-sampling-20260101-120000'")} (a study id from listStudies)`);
  return v as string;
}

/** Every run id a request carries obeys the one run-id rule (src-shared/runId.ts). */
function runId(v: unknown, what = 'runId'): string {
  const problem = runIdProblem(v);
  if (problem) fail(`${what} ${problem} (a run id from listRuns)`);
  return v as string;
}

/** An optional `{ flag?: boolean }` options object of `method`: no other field, a boolean or nothing. */
function flagOptions(v: unknown, method: string, flag: string): void {
  optional(v, (o) => {
    if (!isObject(o)) fail(`${method} options must be { ${flag}?: boolean }`);
    const unknown = Object.keys(o).filter((k) => k !== flag);
    if (unknown.length) fail(`${method} options: unknown field '${unknown[0]}' (known: ${flag})`);
    optional(o[flag], (b) => (typeof b === 'boolean' ? b : fail(`${flag} must be true or false`)));
  });
}

function int(v: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${what} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got ${JSON.stringify(v) ?? 'nothing'}`);
  }
  return v;
}

function finite(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${what} must be a finite number, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

function optional<T>(v: unknown, check: (v: unknown) => T): T | undefined {
  return v === undefined ? undefined : check(v);
}

function optionalString(v: unknown, what: string): string | undefined {
  return optional(v, (x) => (typeof x === 'string' ? x : fail(`${what} must be a string`)));
}

function emaRate(v: unknown, what: string): number | null | undefined {
  if (v === undefined || v === null) return v;
  const n = finite(v, what);
  if (!(n > 0 && n < 1)) fail(`${what} must be a rate in (0, 1) or null for the raw weights, got ${n}`);
  return n;
}

/** The fields a quality job and a quality sweep share (their deep checks are the service's). */
function qualityCommon(s: unknown, shape: string): void {
  if (!isObject(s)) fail(`the settings must be an object ${shape}`);
  runId(s.runId, 'settings.runId');
  if (!Array.isArray(s.metrics) || s.metrics.length === 0 || s.metrics.some((m) => typeof m !== 'string')) {
    fail("settings.metrics must be a non-empty array of metric names ('fid', 'kid', 'pr', 'is')");
  }
  int(s.count, 'settings.count', 1);
  optional(s.seed, (v) => int(v, 'settings.seed', 0));
  optional(s.checkpointId, (v) => int(v, 'settings.checkpointId', 0));
  optional(s.realCount, (v) => int(v, 'settings.realCount', 1));
  optional(s.skipFraction, (v) => finite(v, 'settings.skipFraction'));
  emaRate(s.emaRate, 'settings.emaRate');
}

/** Per method: the most params it takes and a check of them (throws BadParam). */
const PARAM_CHECKS: Record<ApiMethod, { max: number; check: (p: unknown[]) => void }> = {
  systemInfo: { max: 0, check: () => {} },
  backends: { max: 0, check: () => {} },
  presets: { max: 0, check: () => {} },
  validateConfig: {
    max: 1,
    check: (p) => {
      if (p.length < 1) fail('give the config to check');
    },
  },
  listRuns: { max: 0, check: () => {} },
  runDetail: {
    max: 2,
    check: ([id, points]) => {
      runId(id);
      int(points, 'points', 1, MAX_POINTS);
    },
  },
  series: {
    max: 5,
    check: ([id, metrics, points, fromStep, toStep]) => {
      runId(id);
      if (!Array.isArray(metrics) || metrics.some((m) => typeof m !== 'string' || !METRIC_NAMES.has(m))) {
        fail(`metrics must be an array of metric names (${[...METRIC_NAMES].join(', ')})`);
      }
      int(points, 'points', 1, MAX_POINTS);
      optional(fromStep, (v) => int(v, 'fromStep', 0));
      optional(toStep, (v) => int(v, 'toStep', 0));
    },
  },
  vlbSnapshot: {
    max: 2,
    check: ([id, step]) => {
      runId(id);
      int(step, 'step', 0);
    },
  },
  createRun: {
    max: 1,
    check: ([req]) => {
      if (!isObject(req)) fail('the request must be { config, name?, preset?, start?, id? }');
      if (!isObject(req.config)) fail('config must be a run config object');
      optional(req.name, (v) => {
        const problem = runNameProblem(v);
        return problem ? fail(`name ${problem}`) : v;
      });
      optional(req.id, (v) => runId(v, 'id'));
      optionalString(req.preset, 'preset');
      optional(req.start, (v) => (typeof v === 'boolean' ? v : fail('start must be true or false')));
    },
  },
  startRun: { max: 1, check: ([id]) => void runId(id) },
  pauseRun: { max: 1, check: ([id]) => void runId(id) },
  resumeRun: {
    max: 2,
    check: ([id, opts]) => {
      runId(id);
      flagOptions(opts, 'resumeRun', 'fromGoodCheckpoint');
    },
  },
  stopRun: { max: 1, check: ([id]) => void runId(id) },
  duplicateRun: { max: 1, check: ([id]) => void runId(id) },
  deleteRun: { max: 1, check: ([id]) => void runId(id) },
  startSampling: {
    max: 1,
    check: ([s]) => {
      if (!isObject(s)) fail('the settings must be an object { runId, sampler, steps, count, seed, … }');
      runId(s.runId, 'settings.runId');
      if (s.sampler !== 'ancestral' && s.sampler !== 'ddim') fail(`settings.sampler must be 'ancestral' or 'ddim', got ${JSON.stringify(s.sampler) ?? 'nothing'}`);
      int(s.steps, 'settings.steps', 1);
      int(s.count, 'settings.count', 1);
      int(s.seed, 'settings.seed', Number.MIN_SAFE_INTEGER);
      optional(s.eta, (v) => finite(v, 'settings.eta'));
      optional(s.checkpointId, (v) => int(v, 'settings.checkpointId', 0));
      emaRate(s.emaRate, 'settings.emaRate');
      optional(s.clipDenoised, (v) => (typeof v === 'boolean' ? v : fail('settings.clipDenoised must be true or false')));
      optional(s.skipFraction, (v) => finite(v, 'settings.skipFraction'));
    },
  },
  startEvaluation: {
    max: 1,
    check: ([s]) => {
      if (!isObject(s)) fail('the settings must be an object { runId, images, checkpointId?, emaRate? }');
      runId(s.runId, 'settings.runId');
      int(s.images, 'settings.images', 1);
      optional(s.checkpointId, (v) => int(v, 'settings.checkpointId', 0));
      emaRate(s.emaRate, 'settings.emaRate');
    },
  },
  startQualityEvaluation: {
    max: 1,
    check: ([s]) => {
      qualityCommon(s, '{ runId, metrics, count, sampler, steps, eta?, seed?, emaRate?, skipFraction?, checkpointId?, realCount? }');
      const q = s as Record<string, unknown>;
      if (q.sampler !== 'ancestral' && q.sampler !== 'ddim') fail(`settings.sampler must be 'ancestral' or 'ddim', got ${JSON.stringify(q.sampler) ?? 'nothing'}`);
      int(q.steps, 'settings.steps', 1);
      optional(q.eta, (v) => finite(v, 'settings.eta'));
    },
  },
  startQualitySweep: {
    max: 1,
    check: ([s]) => {
      qualityCommon(s, '{ runId, metrics, count, steps: [K, …], samplers?, seed?, emaRate?, skipFraction?, checkpointId?, realCount? }');
      const q = s as Record<string, unknown>;
      if (!Array.isArray(q.steps) || q.steps.length === 0) fail('settings.steps must be a non-empty array of step counts, e.g. [10, 25, 50, 100]');
      (q.steps as unknown[]).forEach((v, i) => int(v, `settings.steps[${i}]`, 1));
      optional(q.samplers, (v) =>
        Array.isArray(v) && v.length > 0 && v.every((x) => x === 'ancestral' || x === 'ddim') ? v : fail("settings.samplers must be a non-empty array of 'ancestral' and/or 'ddim'"),
      );
    },
  },
  listQualityResults: { max: 1, check: ([id]) => void runId(id) },
  qualityAvailability: { max: 1, check: ([id]) => void runId(id) },
  cancelJob: { max: 1, check: ([id]) => void int(id, 'jobId', 0) },
  listJobs: { max: 0, check: () => {} },
  listSampleSets: {
    max: 1,
    check: ([f]) => {
      if (f === undefined) return;
      if (!isObject(f)) fail('the filter must be an object { runId?, kind? }');
      optional(f.runId, (v) => runId(v, 'filter.runId'));
      optional(f.kind, (v) => (v === 'samples' || v === 'preview' ? v : fail("filter.kind must be 'samples' or 'preview'")));
    },
  },
  importReferenceRun: {
    max: 1,
    check: ([r]) => {
      if (!isObject(r)) fail('importReferenceRun takes { path, flags?, name? }');
      if (typeof r.path !== 'string' || r.path.trim() === '') fail('path: give the reference log directory or .pt file');
      optionalString(r.flags, 'flags');
      optionalString(r.name, 'name');
    },
  },
  followReferenceRun: {
    max: 1,
    check: ([r]) => {
      if (!isObject(r)) fail('followReferenceRun takes { dir, flags?, runId?, name?, intervalSec? }');
      if (typeof r.dir !== 'string' || r.dir.trim() === '') fail('dir: give the log directory the cluster writes');
      optionalString(r.flags, 'flags');
      optionalString(r.name, 'name');
      optional(r.runId, (v) => runId(v, 'runId'));
      optional(r.intervalSec, (v) => (typeof v === 'number' && v > 0 ? v : fail('intervalSec must be a positive number of seconds')));
    },
  },
  stopFollowingReferenceRun: { max: 1, check: ([d]) => void (typeof d === 'string' && d !== '' ? d : fail('dir: give the followed directory')) },
  listReferenceFollows: { max: 0, check: () => {} },
  exportForReference: {
    max: 1,
    check: ([r]) => {
      if (!isObject(r)) fail('exportForReference takes { runId, outDir, processes?, includeImages? }');
      runId(r.runId, 'runId');
      if (typeof r.outDir !== 'string' || r.outDir.trim() === '') fail('outDir: give the folder to write the export into');
      optional(r.processes, (v) => int(v, 'processes', 1));
      optional(r.includeImages, (v) => (typeof v === 'boolean' ? v : fail('includeImages must be true or false')));
    },
  },
  studyKinds: { max: 0, check: () => {} },
  listStudies: { max: 0, check: () => {} },
  createStudy: {
    max: 1,
    check: ([r]) => {
      if (!isObject(r)) fail('createStudy takes { kind, size?, name? }');
      const kindProblem = studyKindProblem(r.kind);
      if (kindProblem) fail(`kind: ${kindProblem}`);
      optional(r.size, (v) => {
        const problem = studySizeProblem(v);
        return problem ? fail(`size: ${problem}`) : v;
      });
      optional(r.name, (v) => {
        const problem = runNameProblem(v);
        return problem ? fail(`name ${problem}`) : v;
      });
    },
  },
  studyReport: { max: 1, check: ([id]) => void studyId(id) },
  stopStudy: { max: 1, check: ([id]) => void studyId(id) },
  resumeStudy: { max: 1, check: ([id]) => void studyId(id) },
  exportStudy: { max: 1, check: ([id]) => void studyId(id) },
  deleteStudy: {
    max: 2,
    check: ([id, opts]) => {
      studyId(id);
      flagOptions(opts, 'deleteStudy', 'withRuns');
    },
  },
};

const badRequest = (message: string): ApiError => ({ code: 'bad-request', message });

/** Checks a request's method and params; never throws. */
export function validateRequest(method: unknown, params: unknown): ValidatedRequest {
  if (typeof method !== 'string' || !(API_METHODS as readonly string[]).includes(method)) {
    return { ok: false, error: badRequest(`unknown method ${JSON.stringify(method) ?? 'nothing'} (known: ${API_METHODS.join(', ')})`) };
  }
  const m = method as ApiMethod;
  if (!Array.isArray(params)) return { ok: false, error: badRequest(`${m}: params must be an array`) };
  const spec = PARAM_CHECKS[m];
  if (params.length > spec.max) {
    return { ok: false, error: badRequest(`${m} takes at most ${spec.max} param${spec.max === 1 ? '' : 's'}, got ${params.length}`) };
  }
  try {
    spec.check(params);
  } catch (e) {
    if (e instanceof BadParam) return { ok: false, error: badRequest(`${m}: ${e.message}`) };
    return { ok: false, error: badRequest(`${m}: invalid params`) };
  }
  // listSampleSets: a missing filter means "everything".
  const normalised = m === 'listSampleSets' && params.length === 0 ? [{}] : params;
  return { ok: true, method: m, params: normalised };
}

/**
 * Turns anything a service method threw into an ApiError. Errors that already carry an ApiError code
 * (the service's own) keep their code, field and problems; anything else is 'internal'.
 */
export function toApiError(e: unknown): ApiError {
  if (isObject(e) || e instanceof Error) {
    const o = e as unknown as Record<string, unknown>;
    // The service's ApiFailure knows its own reply (code, message, field, problems).
    if (typeof o.toApiError === 'function') {
      try {
        const own = (o.toApiError as () => unknown).call(e);
        if (isObject(own) && typeof own.code === 'string' && API_ERROR_CODES.has(own.code) && typeof own.message === 'string') {
          return { ...(own as unknown as ApiError) };
        }
      } catch {
        /* fall through to the generic mapping */
      }
    }
    const message = typeof o.message === 'string' && o.message ? o.message : 'the request failed';
    const code = typeof o.code === 'string' && API_ERROR_CODES.has(o.code) ? (o.code as ApiError['code']) : 'internal';
    const out: ApiError = { message, code };
    if (typeof o.field === 'string') out.field = o.field;
    if (Array.isArray(o.problems)) out.problems = o.problems as ApiError['problems'];
    return out;
  }
  return { code: 'internal', message: typeof e === 'string' ? e : 'the request failed' };
}

/** Validates a request and, if good, calls the method on the api; always resolves with a reply. */
export async function handleRequest(api: StudioApi, method: unknown, params: unknown): Promise<ApiReply> {
  const v = validateRequest(method, params);
  if (!v.ok) return { error: v.error };
  try {
    const fn = api[v.method] as (...args: unknown[]) => Promise<unknown>;
    const result = await fn.apply(api, v.params);
    return { result: result === undefined ? null : result };
  } catch (e) {
    return { error: toApiError(e) };
  }
}
