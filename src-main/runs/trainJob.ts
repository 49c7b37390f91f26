/**
 * A training job: picks the backend, opens the dataset, builds or resumes the trainer, and writes the
 * run's files (checkpoints, preview grids). The same code runs in a worker process for the run service and
 * in-process for `iddpm train`; it reports through callbacks and never talks to a UI.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { assertValidRunConfig } from '../../src-shared/config/validate';
import type { RunConfig } from '../../src-shared/config/runConfig';
import { asTrainingData, openDataset } from '../data';
import { backendMemoryLimit } from '../engine/backend/memoryLimit';
import { selectBackend, type BackendReport } from '../engine/backend/selectBackend';
import { checkpointConfigDifferences, readTrainCheckpoint, writeTrainCheckpoint } from '../engine/checkpoint/trainCheckpoint';
import type { TrainEvent } from '../engine/train/events';
import { Trainer } from '../engine/train/trainer';
import { writeFileAtomic } from '../imageio/safetensors';
import { assertModelFitsAdapter } from '../engine/unet/bufferPlan';
import { encodePng } from '../imageio/png';
import { imageGrid } from '../imageio/grid';
import { checkpointFile, ensureDir, listCheckpoints, previewFile } from './runFiles';

export interface TrainJobOptions {
  runDir: string;
  config: RunConfig;
  /** Train until this step (default: config.training.maxSteps, else until stopped). */
  untilStep?: number;
  /** Continue from this checkpoint file, or 'latest' for the run folder's newest one. */
  resumeFrom?: string | 'latest';
  signal?: AbortSignal;
  onBackend?: (report: BackendReport) => void;
  onDataset?: (description: string) => void;
  onEvent?: (event: TrainEvent) => void;
  /** Things to tell the user about the resumed checkpoint that do not stop the run (e.g. it has no checksum). */
  onNote?: (note: string) => void;
  onCheckpoint?: (info: { step: number; file: string; bytes: number }) => void;
  onPreviewFile?: (info: { step: number; file: string; count: number; size: number; channels: number; samplingSteps: number; emaRate: number | null; weightsWhy: string; seed: number }) => void;
}

export interface TrainJobResult {
  step: number;
  lastCheckpoint: string | null;
  backend: BackendReport;
}

export async function runTrainJob(opts: TrainJobOptions): Promise<TrainJobResult> {
  const { runDir, config } = opts;
  assertValidRunConfig(config, { requireDatasetPath: true });
  ensureDir(runDir);
  writeFileAtomic(path.join(runDir, 'config.json'), Buffer.from(`${JSON.stringify(config, null, 2)}\n`));

  const backend = await selectBackend(config.training.backend);
  opts.onBackend?.(backend);
  // Before the dataset or the model allocate anything: a run that cannot fit fails here with the field to change.
  assertValidRunConfig(config, { requireDatasetPath: true, memory: backendMemoryLimit(backend.name) });
  // On WebGPU a tensor over the adapter's buffer limit is a device error mid-step: refuse the batch up front.
  const { batchSize, microbatch } = config.training;
  const splits = microbatch > 0 && microbatch < batchSize;
  assertModelFitsAdapter(config, backend.adapter, splits ? microbatch : batchSize, splits ? 'training.microbatch' : 'training.batchSize');

  const dataset = await openDataset(config.dataset, { size: config.model.imageSize, channels: config.model.imageChannels });
  opts.onDataset?.(`${dataset.name}: ${dataset.train.count} training / ${dataset.heldOut.count} held-out images, ${dataset.size}×${dataset.size}×${dataset.channels} (${dataset.source})`);

  let resumeFile: string | undefined = opts.resumeFrom;
  if (resumeFile === 'latest') resumeFile = listCheckpoints(runDir).at(-1)?.file;
  const snapshot = resumeFile ? readTrainCheckpoint(resumeFile) : undefined;
  if (snapshot) {
    for (const n of snapshot.notes) opts.onNote?.(n);
    const diffs = checkpointConfigDifferences(snapshot.config, config);
    if (diffs.length) throw new Error(`checkpoint ${resumeFile} does not fit this run: ${diffs.join('; ')}`);
  }

  let lastCheckpoint: string | null = resumeFile ?? null;
  const saveCheckpoint = async (t: Trainer) => {
    const file = checkpointFile(runDir, t.step);
    ensureDir(path.dirname(file));
    const bytes = writeTrainCheckpoint(file, await t.snapshotAsync());
    lastCheckpoint = file;
    opts.onCheckpoint?.({ step: t.step, file, bytes });
  };

  const trainer = Trainer.create(
    config,
    asTrainingData(dataset),
    {
      onEvent: (e) => {
        if (e.type === 'preview') {
          const file = previewFile(runDir, e.step);
          ensureDir(path.dirname(file));
          const grid = imageGrid(e.pixels, e.count, e.size, e.channels as 1 | 3);
          writeFileSync(file, encodePng(grid, { Software: 'iddpm-studio', Step: String(e.step), Sampler: `ancestral, ${e.samplingSteps} respaced steps`, Seed: String(e.seed), Weights: e.weightsWhy }));
          opts.onPreviewFile?.({ step: e.step, file, count: e.count, size: e.size, channels: e.channels, samplingSteps: e.samplingSteps, emaRate: e.emaRate, weightsWhy: e.weightsWhy, seed: e.seed });
        }
        opts.onEvent?.(e);
      },
    },
    snapshot,
  );
  try {
    await trainer.run({ untilStep: opts.untilStep, signal: opts.signal, onCheckpointDue: saveCheckpoint });
    // Always leave a checkpoint at the last step, so a stopped run resumes where it stopped.
    if (trainer.step > 0 && !lastCheckpoint?.endsWith(path.basename(checkpointFile(runDir, trainer.step)))) await saveCheckpoint(trainer);
    return { step: trainer.step, lastCheckpoint, backend };
  } finally {
    trainer.dispose();
  }
}
