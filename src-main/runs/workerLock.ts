/**
 * Who trains a run right now. The studio process that starts a training worker writes
 * `runs/<id>/worker.lock`: the worker's pid, the moment the operating system started that process, and
 * which studio process (pid, face) owns it. A pid alone cannot tell a live worker from an unrelated
 * process that got the same number after a crash; pid + process start time can. Every face asks
 * `trainingWorkerOf` before it signals a worker, resumes a run, or calls a run running.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type StudioFace = 'electron' | 'web' | 'cli';

export interface WorkerLock {
  runId: string;
  /** The training worker's process id. */
  pid: number;
  /** When the OS started that process (an opaque token), or null where this OS does not say. */
  pidStart: string | null;
  /** The studio process that started the worker, and which face it is. */
  ownerPid: number;
  face: StudioFace;
  /** ms since the epoch, when the lock was written. */
  since: number;
}

export type WorkerState = { alive: true; lock: WorkerLock } | { alive: false; why: string };

export function workerLockFile(runFolder: string): string {
  return path.join(runFolder, 'worker.lock');
}

/** Records that `pid` now trains the run in `runFolder` for this studio process. */
export function writeWorkerLock(runFolder: string, lock: Omit<WorkerLock, 'pidStart' | 'since'>): WorkerLock {
  const full: WorkerLock = { ...lock, pidStart: processStartToken(lock.pid), since: Date.now() };
  // Written whole then renamed, so a reader never sees half a lock.
  const file = workerLockFile(runFolder);
  const tmp = path.join(runFolder, `.worker.lock.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(full)}\n`);
  renameSync(tmp, file);
  return full;
}

/** Removes the lock if it still names `pid` (a newer worker's lock is left alone). */
export function releaseWorkerLock(runFolder: string, pid: number): void {
  const lock = readWorkerLock(runFolder);
  if (lock && lock.pid === pid) rmSync(workerLockFile(runFolder), { force: true });
}

export function readWorkerLock(runFolder: string): WorkerLock | null {
  try {
    const v = JSON.parse(readFileSync(workerLockFile(runFolder), 'utf8'));
    if (typeof v?.pid !== 'number' || typeof v?.runId !== 'string') return null;
    return v as WorkerLock;
  } catch {
    return null;
  }
}

/**
 * Whether the run's worker (the pid the database holds for it) is still that worker: its lock names
 * the same pid, the process exists, and it started when the lock says. Read-only.
 */
export function trainingWorkerOf(runFolder: string, runId: string, pid: number | null): WorkerState {
  if (pid === null) return { alive: false, why: 'no worker process is recorded for it' };
  const lock = readWorkerLock(runFolder);
  if (!lock || lock.runId !== runId || lock.pid !== pid) return { alive: false, why: `its worker process (pid ${pid}) is gone (no worker lock of this run names that pid)` };
  if (!isProcessAlive(pid)) return { alive: false, why: `its worker process (pid ${pid}) is gone` };
  const start = processStartToken(pid);
  // Where the OS cannot tell when a process started (Windows), a live pid with a matching lock is trusted.
  if (start !== null && lock.pidStart !== null && start !== lock.pidStart) {
    return { alive: false, why: `its worker process (pid ${pid}) is gone; that pid now belongs to another program` };
  }
  return { alive: true, lock };
}

/** A few words naming the studio process that trains a run, for messages. */
export function describeOwner(lock: WorkerLock): string {
  const face = lock.face === 'cli' ? 'an iddpm command' : lock.face === 'web' ? 'iddpm serve (the web face)' : 'the studio app';
  return `${face}, process ${lock.ownerPid}, worker pid ${lock.pid}`;
}

/** Signal 0 probes a process without touching it; EPERM means it exists but belongs to someone else. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When the OS started process `pid`, as a string that changes when the pid is reused: field 22 of
 * /proc/<pid>/stat (clock ticks since boot) on Linux, `ps -o lstart=` on macOS and the BSDs; null elsewhere
 * or when the process does not exist.
 */
export function processStartToken(pid: number): string | null {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return fields[19] ?? null;
    } catch {
      return null;
    }
  }
  if (process.platform === 'win32') return null;
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return out || null;
  } catch {
    return null;
  }
}
