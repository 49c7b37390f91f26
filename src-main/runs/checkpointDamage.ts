/**
 * Whether a run's newest checkpoint file can be resumed from, checked before a worker starts: a
 * checkpoint cut short (kill -9 of a copy, a full disk, a sync tool) is found from its size alone, and
 * the newest earlier checkpoint that is whole is offered instead, naming the steps that are lost.
 *
 * A checkpoint is safetensors: 8 bytes of header length, the header, then the tensor data. The store
 * records the tensor data bytes of every checkpoint the studio wrote, so a whole file is exactly
 * 8 + header length + those bytes long. Deeper damage (flipped bytes) is the loader's to find, in the worker.
 */
import { closeSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import type { CheckpointDamage } from '../../src-shared/protocol';

export interface CheckpointFile {
  step: number;
  file: string;
  /** Tensor data bytes the store recorded when it was written; null for a file the store does not know. */
  dataBytes: number | null;
}

/** Why the file cannot be resumed from, or null when it looks whole. */
export function checkpointFileProblem(c: CheckpointFile): string | null {
  let size: number;
  let headerLength: number;
  try {
    size = statSync(c.file).size;
    if (size < 8) return `it has ${size} bytes, too few for a checkpoint`;
    const fd = openSync(c.file, 'r');
    try {
      const head = Buffer.alloc(8);
      readSync(fd, head, 0, 8, 0);
      headerLength = Number(head.readBigUInt64LE(0));
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return `it cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  const expected = c.dataBytes === null ? null : 8 + headerLength + c.dataBytes;
  if (expected !== null && size !== expected) {
    return size < expected ? `it is truncated: ${size} of its ${expected} bytes are on disk` : `it has ${size} bytes where ${expected} were written`;
  }
  if (8 + headerLength > size) return `it is truncated: its header alone needs ${8 + headerLength} bytes, the file has ${size}`;
  return null;
}

/**
 * The damage of a run's newest checkpoint (files oldest first), or null when it is whole or there is
 * none. `lastStep`: the run's last trained step, for the range of steps a resume from the good one loses.
 */
export function findCheckpointDamage(files: readonly CheckpointFile[], lastStep: number): CheckpointDamage | null {
  const latest = files.at(-1);
  if (!latest) return null;
  const problem = checkpointFileProblem(latest);
  if (!problem) return null;
  let good: CheckpointFile | undefined;
  for (let i = files.length - 2; i >= 0 && !good; i--) if (!checkpointFileProblem(files[i])) good = files[i];
  const goodStep = good?.step ?? 0;
  return {
    file: latest.file,
    step: latest.step,
    problem,
    goodStep: good ? good.step : null,
    lostSteps: [goodStep + 1, Math.max(latest.step, lastStep)],
  };
}

/** One sentence for an error: what is damaged, and how to go on from the newest good checkpoint. */
export function describeDamage(runId: string, d: CheckpointDamage): string {
  const [from, to] = d.lostSteps;
  const where = d.goodStep === null ? 'no earlier checkpoint is whole, so it starts again from step 0' : `the newest good checkpoint is at step ${d.goodStep}`;
  return (
    `cannot resume run '${runId}': its latest checkpoint ${d.file} (step ${d.step}) is damaged: ${d.problem}. ` +
    `To go on, ${where} (steps ${from}…${to} are lost): iddpm resume ${runId} --from-good-checkpoint, or "Resume from step ${d.goodStep ?? 0}" on the run's page`
  );
}

/**
 * Moves the damaged checkpoints (every file newer than the good step) aside as `<name>.damaged`, so the
 * worker resumes from the good one and nothing reads them again; they stay on disk for inspection.
 */
export function setAsideDamaged(files: readonly CheckpointFile[], goodStep: number | null): string[] {
  const moved: string[] = [];
  for (const c of files) {
    if (c.step <= (goodStep ?? 0)) continue;
    renameSync(c.file, `${c.file}.damaged`);
    moved.push(`${c.file}.damaged`);
  }
  return moved;
}
