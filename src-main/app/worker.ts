/**
 * Workers for the Electron face: Electron's utilityProcess (a Node child the app supervises), running the
 * worker from the sources with tsx, as the CLI does (the main bundle has no workerMain). A worker crash or
 * stop never touches the window. Same WorkerHandle interface as the Node fork of src-main/runs/workerHost.ts.
 */
import path from 'node:path';
import { utilityProcess } from 'electron';
import type { WorkerFactory } from '../runs/workerHost';
import type { FromWorker } from '../runs/workerMessages';

/** `appRoot` is the folder holding package.json, src-main/ and node_modules/. */
export function electronWorkerFactory(appRoot: string): WorkerFactory {
  const entry = path.join(appRoot, 'src-main', 'runs', 'workerMain.ts');
  return () => {
    const child = utilityProcess.fork(entry, [], {
      cwd: appRoot,
      execArgv: ['--import', 'tsx'],
      stdio: 'inherit',
      serviceName: 'iddpm-studio worker',
    });
    let exited = false;
    return {
      get pid() {
        return child.pid;
      },
      send: (msg) => {
        if (!exited) child.postMessage(msg);
      },
      onMessage: (h) => child.on('message', (m) => h(m as FromWorker)),
      onExit: (h) =>
        child.once('exit', (code) => {
          exited = true;
          // utilityProcess reports no signal; a kill shows as a non-zero code.
          h(code, null);
        }),
      kill: () => {
        child.kill();
      },
    };
  };
}
