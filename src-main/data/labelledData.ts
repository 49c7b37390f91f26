/**
 * A dataset as the feature classifier sees it (src-shared/labelledData.ts), and the key under which that
 * classifier is cached. Datasets without class labels are refused with NO_LABELS_MESSAGE and how to give
 * them labels.
 */
import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import type { DatasetConfig } from '../../src-shared/config/runConfig';
import { NO_LABELS_MESSAGE, type LabelledData, type LabelledSplit } from '../../src-shared/labelledData';
import { DatasetError, type ImageDataset, type ImageSplit } from './dataset';
import type { DatasetTarget } from './openDataset';

const HOW_TO_LABEL: Record<string, string> = {
  idx: 'put the labels file (train-labels-idx1-ubyte[.gz], and t10k-labels-idx1-ubyte for the test set) beside the images',
  mnist: 'put the labels file (train-labels-idx1-ubyte[.gz]) beside the images',
  folder: "name every file <class>_<anything>.png (the class is the name before the first '_'), with at least 2 classes",
  cifar10: 'use the original CIFAR-10 binary batches, which carry labels',
};

/** True when both splits carry labels. */
export function hasLabels(ds: ImageDataset): boolean {
  return ds.train.labels !== undefined && ds.heldOut.labels !== undefined;
}

function labelledSplit(split: ImageSplit): LabelledSplit {
  return { count: split.count, labels: split.labels!, batch: (indices) => split.batch(indices) };
}

/**
 * The dataset with its labels for the classifier. Throws a DatasetError whose message starts with
 * "no labels: NLL only" when the source has none.
 */
export function asLabelledData(ds: ImageDataset): LabelledData {
  if (!hasLabels(ds)) {
    throw new DatasetError(
      `${NO_LABELS_MESSAGE}: ${ds.name} has no class labels, so there is no classifier for sample-quality metrics. To get them, ${HOW_TO_LABEL[ds.kind] ?? 'use a labelled dataset'}.`,
    );
  }
  let maxLabel = 0;
  for (const split of [ds.train, ds.heldOut]) for (const l of split.labels!) maxLabel = Math.max(maxLabel, l);
  const classes = Math.max(ds.classLabels?.length ?? 0, maxLabel + 1, 2);
  return {
    size: ds.size,
    channels: ds.channels,
    classes,
    ...(ds.classLabels ? { classNames: ds.classLabels } : {}),
    train: labelledSplit(ds.train),
    heldOut: labelledSplit(ds.heldOut),
  };
}

/**
 * The file-name key of a dataset's classifier: kind, the source's name and a hash of its absolute path
 * (two folders of the same name do not share a classifier), and the image shape the classifier sees,
 * e.g. "mnist-bundled-32px-1ch" or "folder-cats-3f2a9c01-64px-3ch".
 */
export function classifierKey(spec: DatasetConfig, target: DatasetTarget, fit?: string): string {
  const shape = `${target.size}px-${target.channels}ch${fit ? `-${fit}` : ''}`;
  const path = spec.path?.trim();
  if (!path) return `${spec.kind}-${spec.kind === 'mnist' ? 'bundled' : 'default'}-${shape}`;
  const abs = resolve(path);
  const name = basename(abs).replace(/[^A-Za-z0-9.-]+/g, '-').slice(0, 40) || 'root';
  const hash = createHash('sha256').update(abs).digest('hex').slice(0, 8);
  return `${spec.kind}-${name}-${hash}-${shape}`;
}
