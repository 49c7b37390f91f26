/** A tiny run trained by a real `iddpm train` process and stopped with Ctrl-C once it has checkpoints. */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src-main/store';

export const IDDPM_BIN = path.join(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'), 'bin', 'iddpm.mjs');

/**
 * Trains `runId` (tiny-test preset, a checkpoint every 3 steps, `steps` at most) until a checkpoint at
 * step ≥ `stopAfter` is stored, then sends SIGINT and waits for the command to end. Returns its exit code
 * and the run's checkpoint files, oldest first.
 */
export async function trainAndStop(data: string, runId: string, steps: number, stopAfter: number): Promise<{ code: number | null; checkpoints: string[] }> {
  const train = spawn(process.execPath, [IDDPM_BIN, 'train', '--preset', 'tiny-test', '--steps', String(steps), '--eval-every', '0', '--preview-every', '0', '--gns-every', '0', '--checkpoint-every', '3', '--data', data, '--run-id', runId]);
  train.stdout.on('data', () => {});
  train.stderr.on('data', () => {});
  const exited = new Promise<number | null>((resolve) => train.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 1200; i++) {
    const store = openStore(path.join(data, 'studio.db'));
    const reached = store.listCheckpoints(runId).some((c) => c.step >= stopAfter);
    store.close();
    if (reached) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  train.kill('SIGINT'); // Ctrl-C: checkpoint at the current step, then stop
  const code = await exited;
  const dir = path.join(data, 'runs', runId, 'checkpoints');
  const checkpoints = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort().map((f) => path.join(dir, f));
  return { code, checkpoints };
}
