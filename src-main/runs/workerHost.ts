/**
 * Starting a worker process behind one small interface: `child_process.fork` under Node (CLI, web face,
 * tests), Electron's `utilityProcess` inside the app (the app passes its own factory).
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker } from './workerMessages';

export interface WorkerHandle {
  readonly pid: number | undefined;
  send(msg: ToWorker): void;
  onMessage(handler: (msg: FromWorker) => void): void;
  /** Called once when the process ends: exit code, or the signal that killed it. */
  onExit(handler: (code: number | null, signal: string | null) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export type WorkerFactory = () => WorkerHandle;

const here = path.dirname(fileURLToPath(import.meta.url));

/** A Node child process running workerMain.ts through tsx (no build step needed). */
export const forkWorker: WorkerFactory = () => {
  const entry = path.join(here, 'workerMain.ts');
  const child = fork(entry, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env },
  });
  return {
    pid: child.pid,
    send: (msg) => {
      // A worker may exit between the check and the write (EPIPE): with a callback the error comes here
      // instead of as an unhandled 'error' event that would take the whole process down. The exit
      // handler reports the worker's end.
      if (child.connected) child.send(msg, () => {});
    },
    onMessage: (h) => child.on('message', (m) => h(m as FromWorker)),
    onExit: (h) => child.once('exit', (code, signal) => h(code, signal)),
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
};
