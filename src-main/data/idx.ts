/**
 * IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
 *   bytes 0-1: 0, byte 2: element type (0x08 = unsigned byte), byte 3: number of dimensions;
 *   then one big-endian uint32 per dimension; then the data, row-major.
 * Images are magic 0x00000803 ([n, rows, cols] uint8, 0 = background), labels 0x00000801 ([n] uint8).
 * Files may be gzipped (as distributed, and as Debian's dataset-fashion-mnist ships them); that is detected
 * from the 1f 8b magic, not the name.
 *
 * A folder is searched for train-images-idx3-ubyte[.gz] (also the "train-images.idx3-ubyte" spelling) and
 * the matching labels and t10k-* test files. With a t10k images file the test set is the held-out split;
 * without one the fixed hash rule picks it from the training file (dataset.ts).
 */
import { basename, dirname, join } from 'node:path';
import {
  DatasetError,
  datasetFromBlock,
  datasetFromTrainTest,
  type ImageBlock,
  type ImageDataset,
} from './dataset';
import { listDir, maybeGunzip, pathKind, readBytes } from './files';
import type { DatasetKind } from '../../src-shared/config/enums';

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Explains a magic number that is not the one expected. */
function badMagic(file: string, magic: number, wanted: 'images' | 'labels', bytes: Uint8Array): DatasetError {
  if (wanted === 'images' && magic === LABELS_MAGIC) {
    return new DatasetError(
      `${file} is an IDX label file (magic 0x00000801), not images: point dataset.path at the images file (…-images-idx3-ubyte) or its folder`,
      file,
    );
  }
  if (wanted === 'labels' && magic === IMAGES_MAGIC) {
    return new DatasetError(`${file} is an IDX image file (magic 0x00000803), not labels`, file);
  }
  const expected = wanted === 'images' ? '0x00000803 (uint8 images: n × rows × cols)' : '0x00000801 (uint8 labels)';
  if (bytes[0] === 0 && bytes[1] === 0 && TYPE_NAMES[bytes[2]!] !== undefined) {
    return new DatasetError(
      `${file} has a bad magic number ${hex32(magic)}: IDX ${TYPE_NAMES[bytes[2]!]} data with ${bytes[3]} dimensions, expected ${expected}`,
      file,
    );
  }
  return new DatasetError(`${file} is not an IDX file: bad magic number ${hex32(magic)}, expected ${expected}`, file);
}

export interface IdxImages {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  /** count × rows × cols bytes (a view on `bytes`). */
  readonly pixels: Uint8Array;
}

/** Parses an (already gunzipped) IDX image file; `file` is only used in error messages. */
export function parseIdxImages(bytes: Uint8Array, file: string): IdxImages {
  if (bytes.length === 0) throw new DatasetError(`${file} is empty`, file);
  if (bytes.length < 4) {
    throw new DatasetError(`${file} is truncated: ${bytes.length} bytes, too short for an IDX header`, file);
  }
  const magic = u32(bytes, 0);
  if (magic !== IMAGES_MAGIC) throw badMagic(file, magic, 'images', bytes);
  if (bytes.length < 16) {
    throw new DatasetError(`${file} is truncated: the IDX image header needs 16 bytes, the file has ${bytes.length}`, file);
  }
  const count = u32(bytes, 4);
  const rows = u32(bytes, 8);
  const cols = u32(bytes, 12);
  if (rows === 0 || cols === 0) {
    throw new DatasetError(`${file} has wrong dimensions: images of ${rows}×${cols} pixels`, file);
  }
  if (rows !== cols) {
    throw new DatasetError(
      `${file} has wrong dimensions: images of ${rows}×${cols} pixels; only square images are supported`,
      file,
    );
  }
  if (count === 0) throw new DatasetError(`${file} holds no images (its header says 0)`, file);
  const expected = 16 + count * rows * cols;
  if (bytes.length < expected) {
    throw new DatasetError(
      `${file} is truncated: its header declares ${count} images of ${rows}×${cols} (${expected} bytes in all) but the file has ${bytes.length} bytes`,
      file,
    );
  }
  if (bytes.length > expected) {
    throw new DatasetError(
      `${file} has wrong dimensions or extra data: its header declares ${count} images of ${rows}×${cols} (${expected} bytes in all) but the file has ${bytes.length} bytes`,
      file,
    );
  }
  return { count, rows, cols, pixels: bytes.subarray(16, expected) };
}

/** Parses an (already gunzipped) IDX label file. */
export function parseIdxLabels(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length === 0) throw new DatasetError(`${file} is empty`, file);
  if (bytes.length < 4) {
    throw new DatasetError(`${file} is truncated: ${bytes.length} bytes, too short for an IDX header`, file);
  }
  const magic = u32(bytes, 0);
  if (magic !== LABELS_MAGIC) throw badMagic(file, magic, 'labels', bytes);
  if (bytes.length < 8) {
    throw new DatasetError(`${file} is truncated: the IDX label header needs 8 bytes, the file has ${bytes.length}`, file);
  }
  const count = u32(bytes, 4);
  const expected = 8 + count;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'is truncated' : 'has extra data';
    throw new DatasetError(
      `${file} ${what}: its header declares ${count} labels (${expected} bytes in all) but the file has ${bytes.length} bytes`,
      file,
    );
  }
  return bytes.subarray(8, expected);
}

export async function readIdxImages(file: string): Promise<IdxImages> {
  return parseIdxImages(await maybeGunzip(await readBytes(file, 'IDX image file'), file), file);
}

export async function readIdxLabels(file: string): Promise<Uint8Array> {
  return parseIdxLabels(await maybeGunzip(await readBytes(file, 'IDX label file'), file), file);
}

/** Reads images (+ labels when a labels file is given), checking that the two agree. */
async function readBlock(imagesFile: string, labelsFile: string | undefined): Promise<ImageBlock> {
  const img = await readIdxImages(imagesFile);
  let labels: Uint8Array | undefined;
  if (labelsFile) {
    labels = await readIdxLabels(labelsFile);
    if (labels.length !== img.count) {
      throw new DatasetError(
        `${labelsFile} holds ${labels.length} labels but ${imagesFile} holds ${img.count} images: they are not a pair`,
        labelsFile,
      );
    }
  }
  return { pixels: img.pixels, count: img.count, size: img.rows, channels: 1, ...(labels ? { labels } : {}) };
}

const IDX_NAME = /^(train|t10k)-(images|labels)[-.]idx([13])-ubyte(\.gz)?$/i;

interface IdxFileSet {
  trainImages?: string;
  trainLabels?: string;
  testImages?: string;
  testLabels?: string;
}

/** Finds the standard MNIST file names in a folder; an uncompressed copy wins over a .gz one. */
async function findIdxFiles(dir: string): Promise<IdxFileSet> {
  const found: IdxFileSet = {};
  const gz: Record<string, boolean> = {};
  for (const name of await listDir(dir, 'IDX folder')) {
    const m = IDX_NAME.exec(name);
    if (!m) continue;
    const split = m[1]!.toLowerCase();
    const what = m[2]!.toLowerCase();
    if ((what === 'images') !== (m[3] === '3')) continue; // e.g. "train-images-idx1-ubyte": not ours
    const key = `${split === 'train' ? 'train' : 'test'}${what === 'images' ? 'Images' : 'Labels'}` as keyof IdxFileSet;
    const isGz = m[4] !== undefined;
    if (found[key] === undefined || (gz[key] && !isGz)) {
      found[key] = join(dir, name);
      gz[key] = isGz;
    }
  }
  return found;
}

/** The labels file beside an images file, by the standard naming, if it exists. */
async function siblingLabels(imagesFile: string): Promise<string | undefined> {
  const name = basename(imagesFile);
  const base = name.replace(/\.gz$/i, '');
  const labelBase = base.replace(/images([-.])idx3/i, 'labels$1idx1');
  if (labelBase === base) return undefined;
  for (const candidate of [labelBase, `${labelBase}.gz`]) {
    const p = join(dirname(imagesFile), candidate);
    if ((await pathKind(p)) === 'file') return p;
  }
  return undefined;
}

export interface IdxOptions {
  /** Dataset kind recorded on the result ('idx', or 'mnist' for MNIST files given a path). */
  kind?: DatasetKind;
  /** Display name; defaults to "IDX (<folder or file name>)". */
  name?: string;
}

/**
 * Loads IDX images from a folder (train-images-idx3-ubyte[.gz], optional labels and t10k-* test files) or
 * from one images file (labels beside it are picked up when named by the standard pattern).
 */
export async function loadIdx(path: string, options: IdxOptions = {}): Promise<ImageDataset> {
  const kind = await pathKind(path);
  if (kind === 'missing') throw new DatasetError(`IDX dataset path ${path} does not exist`, path);
  const meta = {
    name: options.name ?? `IDX (${basename(path)})`,
    kind: options.kind ?? ('idx' as const),
  };
  if (kind === 'file') {
    const labelsFile = await siblingLabels(path);
    const block = await readBlock(path, labelsFile);
    const source = labelsFile ? `${path} (labels: ${basename(labelsFile)})` : path;
    return datasetFromBlock({ ...meta, source }, block);
  }
  const files = await findIdxFiles(path);
  if (!files.trainImages) {
    const hint = files.testImages
      ? ` (it has ${basename(files.testImages)}: point dataset.path at that file to train on it)`
      : '';
    throw new DatasetError(
      `IDX folder ${path} holds no training images: expected train-images-idx3-ubyte or train-images-idx3-ubyte.gz${hint}`,
      path,
    );
  }
  const train = await readBlock(files.trainImages, files.trainLabels);
  const names = [files.trainImages, files.trainLabels, files.testImages, files.testLabels]
    .filter((f): f is string => f !== undefined)
    .map((f) => basename(f));
  const source = `${path} (${names.join(', ')})`;
  if (!files.testImages) return datasetFromBlock({ ...meta, source }, train);
  const test = await readBlock(files.testImages, files.testLabels);
  if (test.size !== train.size) {
    throw new DatasetError(
      `${files.testImages} has images of ${test.size}×${test.size} but ${files.trainImages} has ${train.size}×${train.size}: they are not from the same dataset`,
      files.testImages,
    );
  }
  return datasetFromTrainTest({ ...meta, source }, train, test, basename(files.testImages));
}
