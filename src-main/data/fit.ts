/**
 * Adapting a dataset's images to the model's image size and channel count.
 *
 * MNIST-style digits are 28 px but the UNet wants a size that halves cleanly (32); the usual answer is to
 * pad 2 px of background on each side, which keeps the strokes untouched. Resizing (the reference's
 * box-halving + bicubic path, see resample.ts) serves the other cases, e.g. 28 → 16 for a tiny preset.
 * Both splits are converted once, up front, into new uint8 blocks; the held-out membership is unchanged.
 */
import {
  assemble,
  makeSplit,
  type ImageChannels,
  type ImageDataset,
  type ImageSplit,
} from './dataset';
import { grayToRgb, resizeCropLikeReference, rgbToLuminance } from './resample';

export type FitMode = 'pad' | 'resize';

/**
 * The mode used when the caller does not choose: pad when the images are smaller than the model's size by
 * at most a quarter of it (28 → 32 pads 2 px per side), resize otherwise (28 → 16 shrinks; 28 → 64 would
 * leave a small digit in a wide empty frame, so it is resized up instead).
 */
export function defaultFitMode(from: number, to: number): FitMode {
  return to > from && to - from <= to / 4 ? 'pad' : 'resize';
}

/** Builds a new split by applying `f` to each image of `split`. */
function mapSplit(
  split: ImageSplit,
  size: number,
  channels: ImageChannels,
  f: (img: Uint8Array) => Uint8Array,
): ImageSplit {
  const stride = size * size * channels;
  const pixels = new Uint8Array(split.count * stride);
  for (let i = 0; i < split.count; i++) {
    const img = f(split.image(i));
    if (img.length !== stride) throw new Error(`internal: converted image has ${img.length} bytes, expected ${stride}`);
    pixels.set(img, i * stride);
  }
  return makeSplit({
    pixels,
    count: split.count,
    size,
    channels,
    ...(split.labels ? { labels: split.labels } : {}),
  });
}

function mapDataset(
  ds: ImageDataset,
  size: number,
  channels: ImageChannels,
  note: string,
  f: (img: Uint8Array) => Uint8Array,
): ImageDataset {
  return assemble(
    {
      name: ds.name,
      kind: ds.kind,
      source: `${ds.source}; ${note}`,
      ...(ds.classLabels ? { classLabels: ds.classLabels } : {}),
    },
    mapSplit(ds.train, size, channels, f),
    mapSplit(ds.heldOut, size, channels, f),
    ds.heldOutRule,
  );
}

/** Centres a size×size×c image in a target×target frame of zeros (background; −1 after scaling). */
export function padImage(img: Uint8Array, size: number, c: number, target: number): Uint8Array {
  const out = new Uint8Array(target * target * c);
  // An odd difference puts the extra pixel on the bottom/right, like the crop's floor((h - t) / 2).
  const off = Math.floor((target - size) / 2);
  const rowLen = size * c;
  for (let y = 0; y < size; y++) {
    out.set(img.subarray(y * rowLen, (y + 1) * rowLen), ((y + off) * target + off) * c);
  }
  return out;
}

/**
 * The dataset with its images at `size` × `size`: padded with background (value 0) or resized the
 * reference's way. Returns `dataset` itself when it already has that size. Padding to a smaller size is
 * refused (RangeError): that would be a crop, use 'resize'.
 */
export function fitToSize(dataset: ImageDataset, size: number, mode?: FitMode): ImageDataset {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`image size ${size} is not a positive whole number`);
  const from = dataset.size;
  if (from === size) return dataset;
  const m = mode ?? defaultFitMode(from, size);
  const c = dataset.channels;
  if (m === 'pad') {
    if (size < from) {
      throw new RangeError(`cannot pad ${from} px images down to ${size} px: use 'resize'`);
    }
    return mapDataset(dataset, size, c, `padded ${from}→${size} px`, (img) => padImage(img, from, c, size));
  }
  return mapDataset(dataset, size, c, `resized ${from}→${size} px (bicubic)`, (img) =>
    resizeCropLikeReference(img, from, from, c, size),
  );
}

/**
 * The dataset with `channels` channels: grey replicated into R, G and B, or RGB reduced to PIL's
 * ITU-R 601-2 luminance. Returns `dataset` itself when nothing changes.
 */
export function fitChannels(dataset: ImageDataset, channels: ImageChannels): ImageDataset {
  if (channels !== 1 && channels !== 3) throw new RangeError(`channels ${channels as number} is not 1 or 3`);
  if (dataset.channels === channels) return dataset;
  if (channels === 3) return mapDataset(dataset, dataset.size, 3, 'grey replicated to RGB', grayToRgb);
  return mapDataset(dataset, dataset.size, 1, 'RGB reduced to luminance', rgbToLuminance);
}

/** Channels first (cheaper on the smaller side when reducing), then size. */
export function fitDataset(
  dataset: ImageDataset,
  target: { size: number; channels: ImageChannels },
  mode?: FitMode,
): ImageDataset {
  if (target.channels < dataset.channels) {
    return fitToSize(fitChannels(dataset, target.channels), target.size, mode);
  }
  return fitChannels(fitToSize(dataset, target.size, mode), target.channels);
}
