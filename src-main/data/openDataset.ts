/**
 * One entry point from a run's `dataset` config to images at the model's size and channel count.
 */
import { join } from 'node:path';
import type { DatasetConfig } from '../../src-shared/config/runConfig';
import { DATASET_KINDS, type DatasetKind } from '../../src-shared/config/enums';
import { DatasetError, type ImageChannels, type ImageDataset } from './dataset';
import { fitDataset, type FitMode } from './fit';
import { loadBundledMnist } from './mnistBundled';
import { loadIdx } from './idx';
import { loadCifar10 } from './cifar10';
import { loadImageFolder } from './imageFolder';
import { pathKind } from './files';

export interface DatasetTarget {
  /** The model's image size (model.imageSize). */
  size: number;
  /** The model's channel count (model.imageChannels): 1 or 3. */
  channels: number;
}

export interface OpenDatasetOptions {
  /**
   * How to bring images to the model's size when they differ: 'pad' with background or 'resize' (see
   * fit.ts; default: pad when the images are at most a quarter smaller, e.g. MNIST 28 → 32, else resize).
   */
  fit?: FitMode;
  /**
   * The studio's datasets folder. Without dataset.path, 'idx' reads <datasetsDir>/idx and 'cifar10' reads
   * <datasetsDir>/cifar10 (see defaultDatasetPath). Unset: those kinds need dataset.path.
   */
  datasetsDir?: string;
  /** Progress of slow loads (image folders): images done of total. */
  onProgress?: (done: number, total: number) => void;
}

/** Where a kind's files are looked for when dataset.path is not set ('mnist' and 'folder': none). */
export function defaultDatasetPath(kind: DatasetKind, datasetsDir: string): string | undefined {
  if (kind === 'idx') return join(datasetsDir, 'idx');
  if (kind === 'cifar10') return join(datasetsDir, 'cifar10');
  return undefined;
}

const WHAT: Record<DatasetKind, string> = {
  mnist: 'an MNIST IDX images file or a folder holding train-images-idx3-ubyte[.gz]',
  idx: 'an IDX images file or a folder holding train-images-idx3-ubyte[.gz]',
  cifar10: 'the folder of CIFAR-10 binary batches (data_batch_*.bin, test_batch.bin) or one batch file',
  folder: 'the folder of training images (PNG or JPEG, sub-folders included)',
};

/** The path to read, from dataset.path or the kind's default location; errors say which field to set. */
async function resolvePath(kind: DatasetKind, path: string | undefined, datasetsDir: string | undefined): Promise<string> {
  if (path !== undefined && path.trim() !== '') return path;
  if (kind === 'folder') {
    throw new DatasetError("dataset.path is required for kind 'folder': choose the folder of training images.");
  }
  const fallback = datasetsDir === undefined ? undefined : defaultDatasetPath(kind, datasetsDir);
  if (fallback === undefined) {
    throw new DatasetError(
      `dataset.path is required for kind '${kind}' (no default datasets folder is configured): set it to ${WHAT[kind]}.`,
    );
  }
  if ((await pathKind(fallback)) === 'missing') {
    throw new DatasetError(
      `dataset.path is not set and the default folder for kind '${kind}', ${fallback}, does not exist: set dataset.path to ${WHAT[kind]}, or put the files in ${fallback}.`,
      fallback,
    );
  }
  return fallback;
}

/**
 * Opens the dataset a run config names and adapts it to the model: channels (grey ↔ RGB) and size (pad or
 * resize; an image folder is resized to the target as it loads). 'mnist' without a path is the bundled
 * 10,000 digits; 'mnist' with a path reads MNIST IDX files there (e.g. the full 60,000 + 10,000).
 * Errors are DatasetError (missing/malformed files and folders, naming them) or RangeError (bad target).
 */
export async function openDataset(
  spec: DatasetConfig,
  target: DatasetTarget,
  options: OpenDatasetOptions = {},
): Promise<ImageDataset> {
  if (!(DATASET_KINDS as readonly string[]).includes(spec.kind)) {
    throw new DatasetError(`dataset.kind '${String(spec.kind)}' is not one of ${DATASET_KINDS.join(', ')}.`);
  }
  if (!Number.isInteger(target.size) || target.size < 1) {
    throw new RangeError(`model.imageSize ${target.size} is not a positive whole number`);
  }
  if (target.channels !== 1 && target.channels !== 3) {
    throw new RangeError(`model.imageChannels ${target.channels} is not supported: use 1 (grayscale) or 3 (RGB)`);
  }
  const channels: ImageChannels = target.channels;
  const hasPath = spec.path !== undefined && spec.path.trim() !== '';
  let ds: ImageDataset;
  switch (spec.kind) {
    case 'mnist':
      ds = hasPath ? await loadIdx(spec.path!, { kind: 'mnist', name: 'MNIST (IDX files)' }) : await loadBundledMnist();
      break;
    case 'idx':
      ds = await loadIdx(await resolvePath('idx', spec.path, options.datasetsDir));
      break;
    case 'cifar10':
      ds = await loadCifar10(await resolvePath('cifar10', spec.path, options.datasetsDir));
      break;
    case 'folder':
      ds = await loadImageFolder(
        await resolvePath('folder', spec.path, options.datasetsDir),
        target.size,
        channels,
        options.onProgress ? { onProgress: options.onProgress } : {},
      );
      break;
  }
  return fitDataset(ds, { size: target.size, channels }, options.fit);
}
