/**
 * Follows a run of the service in the terminal: a progress bar with loss and ETA, lines for checkpoints,
 * VLB evaluations and the noise scale, until the run ends. Ctrl-C asks the worker to stop (it checkpoints
 * first); a dead worker is reported with the reason and how to resume.
 */
import type { RunSummary, StudioEvent } from '../../src-shared/protocol';
import type { RunService } from '../runs/runService';
import { Progress } from './progress';

const END = new Set(['done', 'failed', 'interrupted', 'stopped', 'paused']);

export async function followRun(service: RunService, runId: string, dataDirFlag: string): Promise<number> {
  let progress: Progress | undefined;
  let last: RunSummary | undefined;
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('\nstopping after this step (the run keeps a checkpoint; Ctrl-C again to quit at once)…\n');
    void service.stopRun(runId);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const final = await new Promise<RunSummary>((resolve) => {
      const unsubscribe = service.subscribe((e: StudioEvent) => {
        if (e.type === 'run' && e.run.id === runId) {
          if (e.run.backend && e.run.backend !== last?.backend) process.stderr.write(`backend: ${e.run.backend}\n`);
          last = e.run;
          if (END.has(e.run.status)) {
            unsubscribe();
            resolve(e.run);
          }
        } else if (e.type === 'metrics' && e.runId === runId) {
          const row = e.rows.at(-1)!;
          progress ??= new Progress('train', last?.maxSteps ?? Infinity);
          progress.update(row.step, `loss ${row.loss.toFixed(4)} mse ${row.mse.toFixed(4)}${row.vb !== null ? ` vb ${row.vb.toFixed(4)}` : ''}`);
        } else if (e.type === 'checkpoint' && e.runId === runId) {
          process.stderr.write(`\ncheckpoint at step ${e.checkpoint.step}: ${e.checkpoint.path} (${(e.checkpoint.bytes / 1e6).toFixed(1)} MB)\n`);
        } else if (e.type === 'vlb' && e.runId === runId) {
          const s = e.snapshot;
          process.stderr.write(`\nstep ${s.step}: per-t VLB terms over ${s.timesteps.length} steps${s.totalBpd !== null ? `, NLL ${s.totalBpd.toFixed(3)} bits/dim` : ''}\n`);
        } else if (e.type === 'gns' && e.runId === runId) {
          process.stderr.write(`\nstep ${e.point.step}: gradient noise scale B_simple ≈ ${e.point.bSimple.toFixed(1)}\n`);
        } else if (e.type === 'sampleSet' && e.set.runId === runId && e.set.kind === 'preview' && e.set.gridUrl) {
          process.stderr.write(`\npreview at step ${e.set.checkpointStep}\n`);
        }
      });
    });
    progress?.end();
    const resume = `iddpm resume ${runId}${dataDirFlag}`;
    switch (final.status) {
      case 'done':
        process.stdout.write(`run ${runId} finished at step ${final.step}; last checkpoint at step ${final.lastCheckpointStep ?? 'none'}\n`);
        return 0;
      case 'stopped':
      case 'paused':
        process.stdout.write(`run ${runId} ${final.status} at step ${final.step}; resume with: ${resume}\n`);
        return 130;
      case 'interrupted':
        process.stderr.write(`run ${runId} was interrupted: ${final.reason}\nresume with: ${resume}\n`);
        return 1;
      default:
        process.stderr.write(`run ${runId} failed: ${final.reason}\n`);
        return 1;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
