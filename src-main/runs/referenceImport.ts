/**
 * A reference run (openai/improved-diffusion's log directory, or one of its .pt files) made into a studio run:
 * the config from its flags and tensor shapes, every model/EMA/optimizer checkpoint converted to the studio's
 * format, progress.csv onto the step metrics (the usual loss/mse/vb charts and their quartiles), and
 * samples_*.npz into the gallery. The run is created stopped, so it can be sampled, evaluated, or continued.
 * Runs on the main side: everything here is file formats and the store, no engine.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../../src-shared/config/runConfig';
import { imageGrid, singleImage } from '../imageio/grid';
import { encodePng } from '../imageio/png';
import { inferArchitecture } from '../interop/inferArchitecture';
import { readSampleBatch } from '../interop/npz';
import { parseProgressCsv, type ReferenceProgressRow } from '../interop/progressCsv';
import { referenceConfig } from '../interop/referenceConfig';
import { scanReferenceLogDir, type ReferenceCheckpointFiles, type ReferenceLogDir } from '../interop/referenceLogDir';
import { adamStateByName, asStateDict, writeStudioCheckpoint, type StateDict } from '../interop/studioCheckpoint';
import { readTorchFile } from '../interop/torchFile';
import type { Store } from '../store';
import type { StepMetricRow } from '../store/types';
import { checkpointFile, ensureDir, newRunId, runDir } from './runFiles';

export interface ImportReferenceOptions {
  store: Store;
  dataDir: string;
  /** A reference log directory, or one model .pt file. */
  source: string;
  /** The reference flags of the run (script_util.py names), as strings or typed values. */
  flags?: Readonly<Record<string, unknown>>;
  name?: string;
}

export interface ImportReferenceResult {
  runId: string;
  config: RunConfig;
  notes: string[];
  checkpoints: number;
  metricRows: number;
  sampleSets: number;
}

/** The file written into the run folder that says where the run came from (read by `iddpm follow`). */
export const IMPORT_RECORD = 'reference-import.json';

export interface ImportRecord {
  source: string;
  flags: Record<string, unknown>;
  notes: string[];
  importedAt: string;
}

/** The log-dir view of a single .pt file: one checkpoint, its step from the name when it has one. */
function singleFile(file: string): ReferenceLogDir {
  const step = Number(/(\d+)\.pt$/.exec(path.basename(file))?.[1] ?? 0);
  return { dir: path.dirname(file), checkpoints: [{ step, model: file, ema: new Map(), opt: null }], progress: null, log: null, samples: [] };
}

function readStateDict(file: string): StateDict {
  return asStateDict(readTorchFile(file), file);
}

/** Converts one reference checkpoint (model, its EMAs, its optimizer) into the run's checkpoint folder. */
export function importReferenceCheckpoint(store: Store, runId: string, dir: string, config: RunConfig, files: ReferenceCheckpointFiles): string[] {
  const model = readStateDict(files.model);
  const ema = new Map<number, StateDict>();
  for (const [rate, file] of files.ema) if (config.training.emaRates.includes(rate)) ema.set(rate, readStateDict(file));
  const adam = files.opt ? adamStateByName(readTorchFile(files.opt), [...model.keys()], model, files.opt) : null;
  const file = checkpointFile(dir, files.step);
  ensureDir(path.dirname(file));
  const { bytes, notes } = writeStudioCheckpoint(file, { config, step: files.step, model, ema, adam });
  store.addCheckpoint(runId, { step: files.step, path: file, bytes, emaRates: config.training.emaRates });
  return notes;
}

/**
 * progress.csv rows as the studio's step metrics. The reference logs step s after its (s+1)-th update, so the
 * studio step (updates done) is s + 1. The learning rate is the reference's: lr·(1 − s/lr_anneal_steps).
 */
export function progressToMetrics(rows: readonly ReferenceProgressRow[], config: RunConfig, time = Date.now()): StepMetricRow[] {
  const { lr, lrAnnealSteps } = config.training;
  const q = (v: (number | null)[]) => (v.some((x) => x !== null) ? ([v[0], v[1], v[2], v[3]] as [number | null, number | null, number | null, number | null]) : null);
  return rows
    .filter((r) => r.loss !== null)
    .map((r) => ({
      step: r.step + 1,
      time,
      loss: r.loss!,
      mse: r.mse ?? NaN,
      vb: r.vb,
      gradNorm: r.gradNorm ?? NaN,
      lr: lrAnnealSteps ? lr * (1 - r.step / lrAnnealSteps) : lr,
      samplesPerSec: NaN, // the reference does not log time
      lossQ: q(r.quartiles.loss),
      mseQ: q(r.quartiles.mse),
      vbQ: q(r.quartiles.vb),
    }));
}

/** A samples_NxHxWx3.npz as a gallery set: a PNG grid and single PNGs under the run's samples folder. */
export function importSampleBatch(store: Store, runId: string, dir: string, config: RunConfig, npz: string, step: number | null): number {
  const batch = readSampleBatch(npz);
  const out = path.join(dir, 'samples', `imported-${path.basename(npz, '.npz')}`);
  ensureDir(out);
  const settings = { source: path.resolve(npz), importedFrom: 'reference scripts/image_sample.py', count: batch.count, size: batch.size };
  const text = { Software: 'iddpm-studio (imported)', 'iddpm:settings': JSON.stringify(settings) };
  const grid = path.join(out, 'grid.png');
  writeFileSync(grid, encodePng(imageGrid(batch.pixels, batch.count, batch.size, batch.channels), text));
  const images: string[] = [];
  for (let i = 0; i < batch.count; i++) {
    const file = path.join(out, `sample-${String(i).padStart(4, '0')}.png`);
    writeFileSync(file, encodePng(singleImage(batch.pixels, i, batch.size, batch.channels), text));
    images.push(file);
  }
  return store.addSampleSet({
    kind: 'sample',
    runId,
    step,
    settings,
    sampler: 'ancestral', // image_sample.py's default p_sample_loop
    steps: config.diffusion.steps,
    seed: 0,
    count: batch.count,
    gridPath: grid,
    status: 'done',
    images,
  });
}

/** A reference run's files that decide its config: the checkpoint to read shapes from, and what else is known. */
export interface CreateImportedRunInput {
  store: Store;
  dataDir: string;
  /** The imported folder or file, resolved. */
  source: string;
  logDir: ReferenceLogDir;
  /** The checkpoint whose model file shows the architecture. */
  shapesFrom: ReferenceCheckpointFiles;
  flags?: Readonly<Record<string, unknown>>;
  name?: string;
}

/**
 * Checks the config a reference run implies (throwing, with nothing created, when it cannot be imported) and
 * creates the stopped studio run with its folder and import record. Files are brought in by the caller.
 */
export function createImportedRun(input: CreateImportedRunInput): { runId: string; dir: string; config: RunConfig; notes: string[] } {
  const { store, dataDir, source, logDir } = input;
  const model = readStateDict(input.shapesFrom.model);
  const arch = inferArchitecture(model, input.shapesFrom.model);
  const sample = logDir.samples[0];
  const { config, notes } = referenceConfig({
    flags: input.flags ?? {},
    arch,
    imageSizeHint: sample ? { size: sample.size, from: path.basename(sample.file) } : undefined,
    emaRates: [...new Set(logDir.checkpoints.flatMap((c) => [...c.ema.keys()]))].sort(),
    source,
  });
  const runId = newRunId(dataDir, new Date(), (id) => store.getRun(id) !== null);
  const dir = runDir(dataDir, runId);
  store.createRun({
    id: runId,
    name: input.name?.trim() || `imported ${path.basename(source)}`,
    config,
    status: 'stopped',
    runDir: dir,
    maxSteps: null,
    dataset: config.dataset.path ?? null,
  });
  mkdirSync(dir, { recursive: true });
  const record: ImportRecord = { source, flags: { ...(input.flags ?? {}) }, notes, importedAt: new Date().toISOString() };
  writeFileSync(path.join(dir, IMPORT_RECORD), `${JSON.stringify(record, null, 2)}\n`);
  return { runId, dir, config, notes };
}

/** Removes a run that could not be completed, with its folder; the source files are never touched. */
export function discardRun(store: Store, runId: string, dir: string): void {
  store.deleteRun(runId);
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

/** The run created earlier from this reference folder or file, if any (by the import record in run folders). */
export function findImportedRun(store: Store, source: string): string | null {
  const wanted = path.resolve(source);
  for (const run of store.listRuns()) {
    const rec = run.runDir ? path.join(run.runDir, IMPORT_RECORD) : null;
    if (!rec || !existsSync(rec)) continue;
    try {
      if ((JSON.parse(readFileSync(rec, 'utf8')) as ImportRecord).source === wanted) return run.id;
    } catch {
      // an unreadable record belongs to no source
    }
  }
  return null;
}

export function importReferenceRun(opts: ImportReferenceOptions): ImportReferenceResult {
  const source = path.resolve(opts.source);
  let isDir: boolean;
  try {
    isDir = statSync(source).isDirectory();
  } catch (e) {
    throw new Error(`cannot import ${source}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}`);
  }
  const logDir = isDir ? scanReferenceLogDir(source) : singleFile(source);
  const latest = logDir.checkpoints.at(-1);
  if (!latest) throw new Error(`cannot import ${source}: it has no model<step>.pt checkpoint (the reference's train_util.py writes model000000.pt, …)`);
  // Everything that can be refused is checked before the run exists.
  const progressRows = logDir.progress ? parseProgressCsv(readFileSync(logDir.progress, 'utf8'), logDir.progress).rows : [];
  const { store } = opts;
  const { runId, dir, config, notes } = createImportedRun({ store, dataDir: opts.dataDir, source, logDir, shapesFrom: latest, flags: opts.flags, name: opts.name });
  try {
    for (const c of logDir.checkpoints) notes.push(...importReferenceCheckpoint(store, runId, dir, config, c));
    const metrics = progressToMetrics(progressRows, config);
    store.appendStepMetrics(runId, metrics);
    let sampleSets = 0;
    for (const s of logDir.samples) {
      importSampleBatch(store, runId, dir, config, s.file, latest.step);
      sampleSets++;
    }
    store.updateRun(runId, { step: latest.step });
    const recordFile = path.join(dir, IMPORT_RECORD);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as ImportRecord;
    writeFileSync(recordFile, `${JSON.stringify({ ...record, notes }, null, 2)}\n`);
    return { runId, config, notes, checkpoints: logDir.checkpoints.length, metricRows: metrics.length, sampleSets };
  } catch (e) {
    // No half-imported run: the source is untouched, so the user can fix the cause and import again.
    discardRun(store, runId, dir);
    throw e;
  }
}
