/**
 * The trained feature classifier on disk: one safetensors file per dataset (the caller picks the path,
 * e.g. <data>/classifiers/<dataset-key>.safetensors), the parameters under their network.ts names and
 * in the metadata what it was trained on and how well it does on the held-out split.
 *
 * obtainClassifier() reuses a file whose architecture, image shape and dataset key match, and trains and
 * writes a new one otherwise, so a dataset's classifier is trained once.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LabelledData } from '../../../src-shared/labelledData';
import { readSafetensors, writeSafetensors, type NamedArray } from '../../imageio/safetensors';
import { CLASSIFIER_ARCH, classifierParams, paramCount, type ClassifierShape, type ParamSpec } from './network';
import { trainClassifier, type ClassifierTrainOptions } from './trainClassifier';

export interface StoredClassifier {
  readonly shape: ClassifierShape;
  readonly specs: readonly ParamSpec[];
  readonly params: Float32Array;
  readonly heldOutAccuracy: number;
  readonly heldOutCount: number;
  readonly datasetKey: string;
  readonly classNames?: readonly string[];
  /** ISO time it was trained. */
  readonly trainedAt: string;
  /** Whether this call trained it (false: read from the cache file). */
  readonly trainedNow: boolean;
}

export function saveClassifier(file: string, c: Omit<StoredClassifier, 'trainedNow'>): void {
  const tensors = new Map<string, NamedArray>();
  let at = 0;
  for (const s of c.specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    tensors.set(s.name, { dtype: 'F32', shape: [...s.shape], data: c.params.subarray(at, at + n) });
    at += n;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeSafetensors(file, {
    tensors,
    metadata: {
      format: 'iddpm-studio feature classifier',
      arch: CLASSIFIER_ARCH,
      size: String(c.shape.size),
      channels: String(c.shape.channels),
      classes: String(c.shape.classes),
      dataset_key: c.datasetKey,
      held_out_accuracy: String(c.heldOutAccuracy),
      held_out_count: String(c.heldOutCount),
      trained_at: c.trainedAt,
      ...(c.classNames ? { class_names: JSON.stringify(c.classNames) } : {}),
    },
  });
}

/**
 * Reads a cached classifier. Returns null, with the reason, when the file is missing or was made for
 * another architecture, image shape or dataset (it will be retrained); throws when it is corrupt.
 */
export function loadClassifier(
  file: string,
  expect: { shape: ClassifierShape; datasetKey: string },
): { classifier: StoredClassifier } | { classifier: null; reason: string } {
  if (!existsSync(file)) return { classifier: null, reason: 'no classifier trained yet' };
  const { tensors, metadata: m } = readSafetensors(file);
  const shape = { size: Number(m.size), channels: Number(m.channels), classes: Number(m.classes) };
  if (m.arch !== CLASSIFIER_ARCH) return { classifier: null, reason: `cached classifier is ${m.arch}, now ${CLASSIFIER_ARCH}` };
  if (m.dataset_key !== expect.datasetKey) {
    return { classifier: null, reason: `cached classifier was trained on ${m.dataset_key}, not ${expect.datasetKey}` };
  }
  if (shape.size !== expect.shape.size || shape.channels !== expect.shape.channels || shape.classes !== expect.shape.classes) {
    return {
      classifier: null,
      reason: `cached classifier is for ${shape.size}×${shape.size}×${shape.channels} images of ${shape.classes} classes`,
    };
  }
  const specs = classifierParams(shape);
  const params = new Float32Array(paramCount(specs));
  let at = 0;
  for (const s of specs) {
    const t = tensors.get(s.name);
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (!t || t.dtype !== 'F32' || t.data.length !== n) throw new Error(`classifier file ${file} is corrupt: tensor ${s.name} is missing or has the wrong size (delete the file to retrain it)`);
    params.set(t.data as Float32Array, at);
    at += n;
  }
  const accuracy = Number(m.held_out_accuracy);
  if (!(accuracy >= 0 && accuracy <= 1)) throw new Error(`classifier file ${file} is corrupt: held_out_accuracy ${m.held_out_accuracy} (delete the file to retrain it)`);
  return {
    classifier: {
      shape,
      specs,
      params,
      heldOutAccuracy: accuracy,
      heldOutCount: Number(m.held_out_count),
      datasetKey: m.dataset_key!,
      trainedAt: m.trained_at ?? '',
      trainedNow: false,
      ...(m.class_names ? { classNames: JSON.parse(m.class_names) as string[] } : {}),
    },
  };
}

/** The cached classifier for `datasetKey` at `file`, or a newly trained (and saved) one. */
export async function obtainClassifier(
  file: string,
  datasetKey: string,
  data: LabelledData,
  options: ClassifierTrainOptions = {},
): Promise<StoredClassifier> {
  const shape = { size: data.size, channels: data.channels, classes: data.classes };
  const cached = loadClassifier(file, { shape, datasetKey });
  if (cached.classifier) return cached.classifier;
  const trained = await trainClassifier(data, options);
  const stored: Omit<StoredClassifier, 'trainedNow'> = {
    shape: trained.shape,
    specs: trained.specs,
    params: trained.params,
    heldOutAccuracy: trained.heldOutAccuracy,
    heldOutCount: trained.heldOutCount,
    datasetKey,
    trainedAt: new Date().toISOString(),
    ...(data.classNames ? { classNames: data.classNames } : {}),
  };
  saveClassifier(file, stored);
  return { ...stored, trainedNow: true };
}
