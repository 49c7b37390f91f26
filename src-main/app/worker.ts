/**
 * Workers for the Electron face. The run service's default factory finds workerMain.ts beside its own
 * module, which inside the app is the bundle folder (out/main), so the app forks the worker from the
 * sources instead: Electron's binary as Node (ELECTRON_RUN_AS_NODE) with tsx, as the CLI does. A worker
 * crash or stop never touches the window.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import type { WorkerFactory } from '../runs/workerHost';
import type { FromWorker } from '../runs/workerMessages';

/** `appRoot` is the folder holding package.json, src-main/ and node_modules/. */
export function electronWorkerFactory(appRoot: string): WorkerFactory {
  const entry = path.join(appRoot, 'src-main', 'runs', 'workerMain.ts');
  return () => {
    const child = fork(entry, [], {
      cwd: appRoot,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    return {
      pid: child.pid,
      send: (msg) => {
        if (child.connected) child.send(msg);
      },
      onMessage: (h) => child.on('message', (m) => h(m as FromWorker)),
      onExit: (h) => child.once('exit', (code, signal) => h(code, signal)),
      kill: (signal = 'SIGTERM') => {
        child.kill(signal);
      },
    };
  };
}
