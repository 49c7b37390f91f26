/**
 * CIFAR-10 binary batches (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version"):
 * data_batch_1.bin … data_batch_5.bin and test_batch.bin, each 10,000 records of
 *   1 label byte (0..9) + 3072 pixel bytes: the 1024 red values of the 32×32 image row by row, then the
 *   1024 green, then the 1024 blue (CHW planar).
 * We store HWC (R, G, B interleaved per pixel) like every other dataset here.
 *
 * A path may be the folder that holds the batches, the folder above it (the archive unpacks into
 * cifar-10-batches-bin/), or a single batch file. With test_batch.bin present it is the held-out split.
 */
import { basename, join } from 'node:path';
import { DatasetError, datasetFromBlock, datasetFromTrainTest, type ImageBlock, type ImageDataset } from './dataset';
import { listDir, pathKind, readBytes } from './files';

export const CIFAR_RECORD = 1 + 3 * 32 * 32;
const PLANE = 32 * 32;

/** The class names of CIFAR-10, in label order (as in batches.meta.txt). */
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

/** Parses one batch file's bytes; `file` is only used in error messages. */
export function parseCifarBatch(bytes: Uint8Array, file: string): ImageBlock {
  if (bytes.length === 0) throw new DatasetError(`${file} is empty`, file);
  if (bytes.length % CIFAR_RECORD !== 0) {
    const hint =
      bytes.length % (CIFAR_RECORD + 1) === 0
        ? ' (it looks like CIFAR-100, whose records carry two label bytes; only CIFAR-10 is supported)'
        : bytes[0] === 0x1f && bytes[1] === 0x8b
          ? ' (it is gzip-compressed: extract cifar-10-binary.tar.gz first)'
          : '';
    throw new DatasetError(
      `${file} is not a CIFAR-10 binary batch: size ${bytes.length} is not a multiple of ${CIFAR_RECORD}${hint}`,
      file,
    );
  }
  const count = bytes.length / CIFAR_RECORD;
  const pixels = new Uint8Array(count * 3 * PLANE);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const rec = n * CIFAR_RECORD;
    const label = bytes[rec]!;
    if (label > 9) {
      throw new DatasetError(
        `${file} is not a CIFAR-10 binary batch: record ${n} has label ${label}, labels are 0..9`,
        file,
      );
    }
    labels[n] = label;
    const r = rec + 1;
    const g = r + PLANE;
    const b = g + PLANE;
    const o = n * 3 * PLANE;
    for (let p = 0; p < PLANE; p++) {
      pixels[o + 3 * p] = bytes[r + p]!;
      pixels[o + 3 * p + 1] = bytes[g + p]!;
      pixels[o + 3 * p + 2] = bytes[b + p]!;
    }
  }
  return { pixels, count, size: 32, channels: 3, labels };
}

async function readBatches(files: readonly string[]): Promise<ImageBlock> {
  const blocks: ImageBlock[] = [];
  for (const f of files) blocks.push(parseCifarBatch(await readBytes(f, 'CIFAR-10 batch'), f));
  if (blocks.length === 1) return blocks[0]!;
  const count = blocks.reduce((s, b) => s + b.count, 0);
  const pixels = new Uint8Array(count * 3 * PLANE);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const b of blocks) {
    pixels.set(b.pixels, at * 3 * PLANE);
    labels.set(b.labels!, at);
    at += b.count;
  }
  return { pixels, count, size: 32, channels: 3, labels };
}

/** Class names from batches.meta.txt when it is there and sensible, else the standard list. */
async function classNames(dir: string): Promise<readonly string[]> {
  const file = join(dir, 'batches.meta.txt');
  if ((await pathKind(file)) !== 'file') return CIFAR10_CLASSES;
  const text = new TextDecoder().decode(await readBytes(file, 'CIFAR-10 class list'));
  const names = text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return names.length === 10 ? names : CIFAR10_CLASSES;
}

const BATCH = /^data_batch_(\d+)\.bin$/;

/** The folder that holds the batch files: `path` itself or its cifar-10-batches-bin subfolder. */
async function batchFolder(path: string): Promise<{ dir: string; train: string[]; test?: string }> {
  for (const dir of [path, join(path, 'cifar-10-batches-bin')]) {
    if ((await pathKind(dir)) !== 'dir') continue;
    const names = await listDir(dir, 'CIFAR-10 folder');
    const train = names
      .filter((n) => BATCH.test(n))
      .sort((a, b) => Number(BATCH.exec(a)![1]) - Number(BATCH.exec(b)![1]))
      .map((n) => join(dir, n));
    if (train.length > 0) {
      return { dir, train, ...(names.includes('test_batch.bin') ? { test: join(dir, 'test_batch.bin') } : {}) };
    }
  }
  throw new DatasetError(
    `CIFAR-10 folder ${path} holds no data_batch_*.bin files (looked in it and in its cifar-10-batches-bin subfolder): extract the binary version (cifar-10-binary.tar.gz) there`,
    path,
  );
}

/** Loads CIFAR-10 from a folder of batches (see the file comment) or from one batch file. */
export async function loadCifar10(path: string): Promise<ImageDataset> {
  const kind = await pathKind(path);
  if (kind === 'missing') throw new DatasetError(`CIFAR-10 dataset path ${path} does not exist`, path);
  if (kind === 'file') {
    if (/\.tar(\.gz)?$|\.tgz$/i.test(path)) {
      throw new DatasetError(`${path} is an archive: extract it and point dataset.path at the extracted folder`, path);
    }
    const block = await readBatches([path]);
    return datasetFromBlock(
      { name: `CIFAR-10 (${basename(path)})`, kind: 'cifar10', source: path, classLabels: CIFAR10_CLASSES },
      block,
    );
  }
  const { dir, train, test } = await batchFolder(path);
  const meta = {
    name: 'CIFAR-10',
    kind: 'cifar10' as const,
    source: `${dir} (${[...train, ...(test ? [test] : [])].map((f) => basename(f)).join(', ')})`,
    classLabels: await classNames(dir),
  };
  const trainBlock = await readBatches(train);
  if (!test) return datasetFromBlock(meta, trainBlock);
  return datasetFromTrainTest(meta, trainBlock, await readBatches([test]), 'test_batch.bin');
}
