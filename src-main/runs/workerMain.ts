/**
 * The worker process: waits for one job, runs it with the engine, streams its events to the parent and
 * exits. A 'stop' message ends training gracefully (it checkpoints at the current step first).
 */
import path from 'node:path';
import { probeBackends } from '../engine/backend/selectBackend';
import { runEvalJob } from './evalJob';
import { runQualityJob } from './qualityJob';
import { runSampleJob } from './sampleJob';
import { runTrainJob } from './trainJob';
import type { FromWorker, JobRequest, ToWorker } from './workerMessages';

/** Electron's utilityProcess talks through process.parentPort; a Node fork through process.send. */
interface ParentPort {
  on(event: 'message', handler: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

function send(msg: FromWorker): void {
  if (parentPort) parentPort.postMessage(msg);
  else process.send?.(msg);
}

const controller = new AbortController();
let started = false;

function onMessage(msg: ToWorker): void {
  if (msg.type === 'stop') controller.abort();
  else if (msg.type === 'start' && !started) {
    started = true;
    void run(msg.job);
  }
}
if (parentPort) parentPort.on('message', (e) => onMessage(e.data as ToWorker));
else process.on('message', onMessage);
// `iddpm stop` from another terminal signals the worker directly: stop gracefully, as on a 'stop' message.
process.on('SIGTERM', () => controller.abort());
// The parent going away (crash, kill) must not leave an orphan training forever.
process.on('disconnect', () => process.exit(0));

async function run(job: JobRequest): Promise<void> {
  try {
    if (job.kind === 'train') {
      const r = await runTrainJob({
        runDir: job.runDir,
        config: job.config,
        untilStep: job.untilStep,
        resumeFrom: job.resumeFrom,
        signal: controller.signal,
        onBackend: (report) => send({ type: 'backend', report }),
        onDataset: (description) => send({ type: 'dataset', description }),
        onEvent: (e) => {
          if (e.type !== 'preview') send({ type: 'train', event: e });
        },
        onPreviewFile: (p) => send({ type: 'train', event: { type: 'preview', step: p.step, file: p.file, count: p.count, size: p.size, channels: p.channels, samplingSteps: p.samplingSteps, emaRate: p.emaRate, weightsWhy: p.weightsWhy, seed: p.seed } }),
        onCheckpoint: (c) => send({ type: 'checkpoint', ...c }),
      });
      send({ type: 'done', result: { step: r.step, lastCheckpoint: r.lastCheckpoint } });
    } else if (job.kind === 'backends') {
      send({ type: 'done', result: { backends: await probeBackends() } });
    } else if (job.kind === 'sample') {
      const r = await runSampleJob({
        ...job.settings,
        outDir: job.outDir,
        signal: controller.signal,
        onBackend: (report) => send({ type: 'backend', report }),
        onProgress: (done, total) => send({ type: 'progress', done, total }),
      });
      send({ type: 'done', result: { sample: { grid: r.grid, images: r.images, settings: r.settings } } });
    } else if (job.kind === 'quality') {
      // Progress at most every 100 ms per phase (and always a phase's first and last): classifier training
      // reports every batch, which would otherwise be a store write each.
      let last = { phase: '', at: 0 };
      const r = await runQualityJob({
        ...job.options,
        signal: controller.signal,
        onBackend: (report) => send({ type: 'backend', report }),
        onProgress: (phase, done, total) => {
          const now = Date.now();
          if (phase === last.phase && done < total && now - last.at < 100) return;
          last = { phase, at: now };
          send({ type: 'progress', phase, done, total });
        },
      });
      send({ type: 'done', result: { quality: r } });
    } else {
      const r = await runEvalJob({
        checkpoint: job.checkpoint,
        emaRate: job.emaRate,
        images: job.images,
        seed: job.seed,
        backend: job.backend,
        csvFile: path.join(path.dirname(job.checkpoint), `nll-${path.basename(job.checkpoint, '.safetensors')}.csv`),
        signal: controller.signal,
        onBackend: (report) => send({ type: 'backend', report }),
        onProgress: (done, total) => send({ type: 'progress', done, total }),
      });
      send({ type: 'done', result: { eval: r } });
    }
    exitSoon(0);
  } catch (e) {
    const err = e as Error;
    send({ type: 'error', message: err.message, stopped: err.name === 'AbortError' });
    exitSoon(1);
  }
}

/** Lets the last message flush through the IPC pipe before exiting. */
function exitSoon(code: number): void {
  setTimeout(() => process.exit(code), 50);
}

send({ type: 'ready' });
