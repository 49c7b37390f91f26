/**
 * The common shape of every training dataset, the fixed held-out split, and the seeded epoch order.
 *
 * Images are kept as uint8 in HWC order (row-major, channels last), the way they come off disk, so a
 * 50,000-image CIFAR-10 set costs 150 MB rather than 600 MB of float32. The trainer asks for a batch of
 * indices and gets NHWC float32 in [-1, 1] (x = u8 / 127.5 − 1, as the reference's image_datasets.py does),
 * ready to become a tensor; nothing here knows about tfjs.
 *
 * Imports: src-shared only (ARCHITECTURE: src-main/data).
 */
import type { DatasetKind } from '../../src-shared/config/enums';
import { fmix32 } from '../../src-shared/dataOrder';
import type { TrainingData } from '../../src-shared/trainingData';

export type ImageChannels = 1 | 3;

/** One split (train or held-out) of a dataset. All images have the same size and channel count. */
export interface ImageSplit {
  readonly count: number;
  /** Height = width of every image, in pixels. */
  readonly size: number;
  readonly channels: ImageChannels;
  /**
   * Image i as size*size*channels bytes in HWC order. A view on the dataset's storage (no copy): do not
   * write to it. Throws RangeError for an index outside 0..count-1.
   */
  image(i: number): Uint8Array;
  /**
   * The images at `indices` as one NHWC float32 block scaled to [-1, 1] (x = u8 / 127.5 − 1). `out`, when
   * given, is filled and returned (a view of its first n*size*size*channels values when it is longer);
   * it must be at least that long.
   */
  batch(indices: ArrayLike<number>, out?: Float32Array): Float32Array;
  /** Class label of each image of this split (same order as image(i)), where the source has labels. */
  readonly labels?: Uint8Array;
}

export interface ImageDataset {
  /** Short human-readable name, e.g. "MNIST (bundled digits)". */
  readonly name: string;
  readonly kind: DatasetKind;
  /** Height = width of every image, in pixels. */
  readonly size: number;
  readonly channels: ImageChannels;
  /** train.count + heldOut.count. */
  readonly count: number;
  readonly train: ImageSplit;
  /** The fixed evaluation split, disjoint from train (see HELD_OUT_RULE). */
  readonly heldOut: ImageSplit;
  /** The file(s) or folder the images came from, described for a person. */
  readonly source: string;
  /** How the held-out split was chosen, in one sentence (for the Evaluate view and run records). */
  readonly heldOutRule: string;
  /** Names of the classes, indexed by label value, where the source has them. */
  readonly classLabels?: readonly string[];
}

/**
 * A missing or malformed dataset file or folder. `path` is the file or folder at fault; the message names
 * it too and says what is wrong, so it can be shown to the user as is.
 */
export class DatasetError extends Error {
  readonly path: string | undefined;
  constructor(message: string, path?: string) {
    super(message);
    this.name = 'DatasetError';
    this.path = path;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Storage and splits

/** Images stored back to back: count × size × size × channels bytes, plus optional labels. */
export interface ImageBlock {
  readonly pixels: Uint8Array;
  readonly count: number;
  readonly size: number;
  readonly channels: ImageChannels;
  readonly labels?: Uint8Array;
}

/** u8 → float in [-1, 1], computed once; float32 of v/127.5 − 1 exactly as the reference's numpy does. */
const TO_UNIT = (() => {
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = v / 127.5 - 1;
  return t;
})();

export function checkBlock(block: ImageBlock): void {
  const { pixels, count, size, channels } = block;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`image count ${count} is not a whole number`);
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`image size ${size} is not a positive whole number`);
  if (channels !== 1 && channels !== 3) throw new RangeError(`channels ${channels as number} is not 1 or 3`);
  if (pixels.length !== count * size * size * channels) {
    throw new RangeError(
      `pixel block holds ${pixels.length} bytes, expected ${count}×${size}×${size}×${channels} = ${count * size * size * channels}`,
    );
  }
  if (block.labels && block.labels.length !== count) {
    throw new RangeError(`label block holds ${block.labels.length} labels for ${count} images`);
  }
}

class BlockSplit implements ImageSplit {
  readonly count: number;
  readonly size: number;
  readonly channels: ImageChannels;
  readonly labels?: Uint8Array;
  private readonly pixels: Uint8Array;
  private readonly stride: number;
  /** Split index → block index, or null for the identity. */
  private readonly map: Uint32Array | null;

  constructor(block: ImageBlock, map: Uint32Array | null) {
    this.size = block.size;
    this.channels = block.channels;
    this.pixels = block.pixels;
    this.stride = block.size * block.size * block.channels;
    this.map = map;
    this.count = map ? map.length : block.count;
    if (block.labels) {
      const src = block.labels;
      this.labels = map ? Uint8Array.from(map, (j) => src[j]!) : src;
    }
  }

  private offset(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new RangeError(`image index ${i} is outside 0..${this.count - 1}`);
    }
    return (this.map ? this.map[i]! : i) * this.stride;
  }

  image(i: number): Uint8Array {
    const o = this.offset(i);
    return this.pixels.subarray(o, o + this.stride);
  }

  batch(indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    const n = indices.length;
    const need = n * this.stride;
    let dst: Float32Array;
    if (out) {
      if (out.length < need) {
        throw new RangeError(`batch output holds ${out.length} floats, ${n} images need ${need}`);
      }
      dst = out.length === need ? out : out.subarray(0, need);
    } else {
      dst = new Float32Array(need);
    }
    const px = this.pixels;
    const stride = this.stride;
    for (let b = 0; b < n; b++) {
      const o = this.offset(indices[b]!);
      const d = b * stride;
      for (let k = 0; k < stride; k++) dst[d + k] = TO_UNIT[px[o + k]!]!;
    }
    return dst;
  }
}

/** A split over a whole block (identity order) or over the block images listed in `indices`. */
export function makeSplit(block: ImageBlock, indices?: Uint32Array): ImageSplit {
  checkBlock(block);
  if (indices) {
    for (const j of indices) {
      if (j >= block.count) throw new RangeError(`split index ${j} is outside 0..${block.count - 1}`);
    }
  }
  return new BlockSplit(block, indices ?? null);
}

// ---------------------------------------------------------------------------------------------------------
// The fixed held-out split

/**
 * The rule, for sources without an official test set (bundled MNIST digits, a single IDX file or CIFAR-10
 * batch, an image folder):
 *
 *   n_heldOut = 0 when count < 2, else clamp(floor(count × 5%), 1, 1000).
 *   Every image gets a key (its index, or for a folder its path relative to the folder); the n_heldOut
 *   images whose 32-bit hash of the key is smallest (ties by index) are held out, in ascending hash order,
 *   so any prefix of the held-out split is itself a spread-out sample (the bundled digits are stored
 *   sorted by class, and an evaluation may use only the first k). Train keeps the source order.
 *
 * The hash is fixed (no run seed), so every run on the same data evaluates on the same images; for a
 * folder, adding or removing a file leaves the other files' membership unchanged except at the margin.
 *
 * Sources that ship a test set (IDX t10k-* files, CIFAR-10 test_batch.bin) use it whole, in file order,
 * as the held-out split, the way the paper reports NLL on the test set.
 */
export const HELD_OUT_RULE =
  'held out: 5% of the images (at least 1, at most 1000), those whose fixed hash of index or file path is smallest';

export function heldOutCount(count: number): number {
  if (count < 2) return 0;
  return Math.min(1000, Math.max(1, Math.floor(count * 0.05)));
}


/** FNV-1a over UTF-16 code units, then fmix32; stable across platforms and Node versions. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h >>> 0);
}

function hashIndex(i: number): number {
  // The constant keeps index 0 away from hash 0; any fixed value would do, but it must never change.
  return fmix32((i ^ 0x5bd1e995) >>> 0);
}

export interface SplitIndices {
  readonly train: Uint32Array;
  readonly heldOut: Uint32Array;
}

/**
 * The fixed held-out pick (see HELD_OUT_RULE). `keys` is either the image count (keys are the indices) or
 * one string per image (e.g. relative file paths).
 */
export function pickHeldOut(keys: number | readonly string[]): SplitIndices {
  const count = typeof keys === 'number' ? keys : keys.length;
  const n = heldOutCount(count);
  const hashes = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    hashes[i] = typeof keys === 'number' ? hashIndex(i) : hashString(keys[i]!);
  }
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  order.sort((a, b) => hashes[a]! - hashes[b]! || a - b);
  const heldOut = order.slice(0, n);
  const isHeld = new Uint8Array(count);
  for (const j of heldOut) isHeld[j] = 1;
  const train = new Uint32Array(count - n);
  let t = 0;
  for (let i = 0; i < count; i++) if (!isHeld[i]) train[t++] = i;
  return { train, heldOut };
}

export interface DatasetMeta {
  name: string;
  kind: DatasetKind;
  source: string;
  classLabels?: readonly string[];
}

/** A dataset whose held-out split is picked from one block by the fixed hash rule. */
export function datasetFromBlock(meta: DatasetMeta, block: ImageBlock, keys?: readonly string[]): ImageDataset {
  checkBlock(block);
  if (keys && keys.length !== block.count) {
    throw new RangeError(`${keys.length} split keys for ${block.count} images`);
  }
  const { train, heldOut } = pickHeldOut(keys ?? block.count);
  return assemble(meta, makeSplit(block, train), makeSplit(block, heldOut), HELD_OUT_RULE);
}

/** A dataset whose held-out split is the source's own test set. */
export function datasetFromTrainTest(
  meta: DatasetMeta,
  train: ImageBlock,
  test: ImageBlock,
  testDescription: string,
): ImageDataset {
  if (train.size !== test.size || train.channels !== test.channels) {
    throw new RangeError(
      `train images are ${train.size}×${train.size}×${train.channels} but test images are ${test.size}×${test.size}×${test.channels}`,
    );
  }
  return assemble(meta, makeSplit(train), makeSplit(test), `held out: the test set (${testDescription}), all of it`);
}

/** Builds the dataset object from two splits of equal geometry. */
export function assemble(meta: DatasetMeta, train: ImageSplit, heldOut: ImageSplit, heldOutRule: string): ImageDataset {
  const ds: ImageDataset = {
    name: meta.name,
    kind: meta.kind,
    size: train.size,
    channels: train.channels,
    count: train.count + heldOut.count,
    train,
    heldOut,
    source: meta.source,
    heldOutRule,
    ...(meta.classLabels ? { classLabels: meta.classLabels } : {}),
  };
  return ds;
}

// ---------------------------------------------------------------------------------------------------------
// Seeded epoch order

// The image order of training (epochOrder, BatchOrder) lives in src-shared so the engine's trainer and
// this layer use the same one; it is re-exported here for the data layer's callers.
export { epochOrder, BatchOrder } from '../../src-shared/dataOrder';

/** The engine's view of a dataset (src-shared/trainingData.ts), kept under its old name for callers. */
export type FlatTrainingData = TrainingData;

export function asTrainingData(ds: ImageDataset): FlatTrainingData {
  return {
    size: ds.size,
    channels: ds.channels,
    trainCount: ds.train.count,
    heldOutCount: ds.heldOut.count,
    trainBatch: (indices) => ds.train.batch(indices),
    heldOutBatch: (indices) => ds.heldOut.batch(indices),
  };
}
