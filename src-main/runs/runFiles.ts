/**
 * Where a run's files live in the data directory (ARCHITECTURE.md "Data on disk"):
 * <data>/runs/<id>/config.json, checkpoints/step-XXXXXXXX.safetensors, previews/step-XXXXXXXX.png,
 * samples/<set>/…png.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storageProblem } from '../store/errors';

/** The default data directory for the CLI and the web face: $IDDPM_DATA, else ~/.iddpm-studio. */
export function defaultDataDir(): string {
  return process.env.IDDPM_DATA ? path.resolve(process.env.IDDPM_DATA) : path.join(os.homedir(), '.iddpm-studio');
}

export function runDir(dataDir: string, runId: string): string {
  return path.join(dataDir, 'runs', runId);
}

/**
 * Deletes a run's folder, but only when it lies strictly inside `<data>/runs/`: an id or a stored path
 * that resolves to the runs folder itself, the data folder or anywhere else is refused (false) and
 * nothing is touched. The last line of defence behind the run-id rule, for rows written before it.
 */
export function removeRunFolder(dataDir: string, dir: string): boolean {
  return removeFolderInside(path.resolve(dataDir, 'runs'), dir);
}

/** Deletes `dir` only when it resolves strictly inside `root` (false, nothing touched, otherwise). */
export function removeFolderInside(root: string, dir: string): boolean {
  const rel = path.relative(root, path.resolve(root, dir));
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return false;
  rmSync(path.join(root, rel), { recursive: true, force: true });
  return true;
}

export function checkpointsDir(dir: string): string {
  return path.join(dir, 'checkpoints');
}

export function checkpointFile(dir: string, step: number): string {
  return path.join(checkpointsDir(dir), `step-${String(step).padStart(8, '0')}.safetensors`);
}

export function previewFile(dir: string, step: number): string {
  return path.join(dir, 'previews', `step-${String(step).padStart(8, '0')}.png`);
}

/** Checkpoints of a run folder, oldest first. */
export function listCheckpoints(dir: string): { step: number; file: string }[] {
  const folder = checkpointsDir(dir);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .map((name) => /^step-(\d+)\.safetensors$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), file: path.join(folder, m[0]) }))
    .sort((a, b) => a.step - b.step);
}

/** A new run id: sortable by creation time, unique within the data directory. */
export function newRunId(dataDir: string, now = new Date(), taken: (id: string) => boolean = () => false): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  for (let n = 1; ; n++) {
    const id = n === 1 ? stamp : `${stamp}-${n}`;
    // A run's folder appears only when it first trains: the caller also says which ids the store holds.
    if (!existsSync(runDir(dataDir, id)) && !taken(id)) return id;
  }
}

/** Creates a folder (and parents), naming the data folder problem (read-only, full disk) when it cannot. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const problem = storageProblem(e, path.join(dir, '.keep'));
    if (problem?.code === 'disk-full' || problem?.code === 'not-writable') {
      throw new Error(`${problem.why}. Choose another data folder (--data DIR), or ${problem.code === 'disk-full' ? 'free some space' : 'make it writable'}.`, { cause: e });
    }
    const err = e as NodeJS.ErrnoException;
    throw new Error(`cannot create ${dir}: ${problem ? `${problem.why} (${err.code})` : (err.code ?? err.message)}`, { cause: e });
  }
}
