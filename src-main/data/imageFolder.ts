/**
 * A folder of PNG/JPEG images, prepared the way the reference's image_datasets.py prepares them.
 *
 * Listing: recursive, each folder's names sorted (as the reference's sorted(listdir)), so the order (and
 * the held-out pick, keyed by relative path) is the same on every machine. Extensions .png/.jpg/.jpeg in
 * any case; hidden names (starting with '.', e.g. macOS "._x.jpg" resource forks) are skipped. The
 * reference also takes .gif; we do not decode GIF.
 *
 * Decoding: pngjs / jpeg-js (pure JS), format chosen by the file's magic bytes, not its extension.
 * Pixels become RGB (alpha dropped, as PIL's convert("RGB") does; grey replicated), or PIL's luminance
 * when the model wants 1 channel, and are then box-halved, bicubic-resized and centre-cropped to the
 * target size exactly as the reference does (resample.ts, bit-identical to Pillow on the same pixels).
 * JPEG decoders differ in their IDCT and chroma upsampling, so JPEG pixels may differ from libjpeg's by
 * a level or two before resizing; PNG pixels are exact. 16-bit PNGs are scaled to 8 bits with rounding.
 * An image whose header claims more than PIL's MAX_IMAGE_PIXELS (~89.5 megapixels) is refused before it is
 * decoded (imageSize.ts): a tiny file can claim an image that takes gigabytes to decode.
 *
 * All images are decoded and resized once, at load, into one uint8 block at the target size: decoding
 * is the slow part (tens of ms per photo) and training visits every image many times, while the resized
 * block is small (50,000 × 64×64×3 = 600 MB would be the large end). `onProgress` reports the count.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PNG } from 'pngjs';
import { decode as decodeJpeg } from 'jpeg-js';
import { DatasetError, datasetFromBlock, type ImageChannels, type ImageDataset } from './dataset';
import { pathKind, readBytes } from './files';
import { imageSize, MAX_IMAGE_PIXELS } from './imageSize';
import { folderLabels } from './folderLabels';
import { luminance, resizeCropLikeReference } from './resample';

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** Image files under `dir`, as paths relative to it with '/' separators, in the reference's order. */
export async function listImageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  // Folders already walked, by device and inode, so a symlink pointing back up cannot loop forever.
  const seen = new Set<string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    try {
      const s = await stat(abs);
      const id = `${s.dev}:${s.ino}`;
      if (seen.has(id)) return;
      seen.add(id);
    } catch {
      // reported by readdir below
    }
    let names: string[];
    try {
      names = (await readdir(abs)).sort();
    } catch (err) {
      throw new DatasetError(`image folder ${abs} cannot be listed: ${(err as Error).message}`, abs);
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const full = join(abs, name);
      const relName = rel === '' ? name : `${rel}/${name}`;
      // stat (not lstat) so symlinked files and folders are followed, like os.listdir + isdir.
      let s;
      try {
        s = await stat(full);
      } catch {
        continue; // a dangling link: nothing to read
      }
      if (s.isDirectory()) await walk(full, relName);
      else if (s.isFile() && IMAGE_EXT.test(name)) out.push(relName);
    }
  };
  await walk(dir, '');
  return out;
}

export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** width × height × 4 bytes, RGBA. */
  readonly rgba: Uint8Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, sig: readonly number[]): boolean {
  return bytes.length >= sig.length && sig.every((v, i) => bytes[i] === v);
}

/**
 * Refuses, before decoding, an image whose header claims more than `maxPixels` (see imageSize.ts): decoding
 * allocates 4 bytes per pixel and more, whatever the file's own size.
 */
function assertDecodableSize(bytes: Uint8Array, file: string, maxPixels: number): void {
  const size = imageSize(bytes);
  if (!size) return;
  const pixels = size.width * size.height;
  if (pixels > maxPixels) {
    throw new DatasetError(
      `image ${file} is ${size.width}×${size.height} pixels (${(pixels / 1e6).toFixed(0)} megapixels), more than the ${(maxPixels / 1e6).toFixed(1)} megapixels the studio decodes per image (decoding it would take ${((pixels * 4) / 2 ** 30).toFixed(1)} GiB or more): shrink the image or remove it from the folder`,
      file,
    );
  }
}

/** Decodes PNG or JPEG bytes to RGBA; errors name `file` and the format it was read as. */
export function decodeImage(bytes: Uint8Array, file: string, maxPixels = MAX_IMAGE_PIXELS): DecodedImage {
  if (bytes.length === 0) throw new DatasetError(`image ${file} is empty`, file);
  assertDecodableSize(bytes, file, maxPixels);
  if (startsWith(bytes, PNG_SIGNATURE)) {
    try {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    } catch (err) {
      throw new DatasetError(`image ${file} could not be decoded as PNG: ${(err as Error).message}`, file);
    }
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    try {
      // jpeg-js's own limit as a second guard, for frame headers our scan did not reach.
      const img = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6 });
      if (!(img.width > 0 && img.height > 0)) throw new Error('no image frame');
      return { width: img.width, height: img.height, rgba: img.data };
    } catch (err) {
      throw new DatasetError(`image ${file} could not be decoded as JPEG: ${(err as Error).message}`, file);
    }
  }
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new DatasetError(`image ${file} is neither PNG nor JPEG (it starts with bytes ${head})`, file);
}

/** RGBA → packed RGB or luminance, dropping alpha. */
function fromRgba(rgba: Uint8Array, channels: ImageChannels): Uint8Array {
  const n = rgba.length / 4;
  const out = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      out[3 * i] = rgba[4 * i]!;
      out[3 * i + 1] = rgba[4 * i + 1]!;
      out[3 * i + 2] = rgba[4 * i + 2]!;
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = luminance(rgba[4 * i]!, rgba[4 * i + 1]!, rgba[4 * i + 2]!);
  }
  return out;
}

/** One file to size × size × channels uint8 HWC, the reference's way. */
export function prepareImage(bytes: Uint8Array, file: string, size: number, channels: ImageChannels): Uint8Array {
  const img = decodeImage(bytes, file);
  return resizeCropLikeReference(fromRgba(img.rgba, channels), img.width, img.height, channels, size);
}

export interface ImageFolderOptions {
  /** Called after each image with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** Loads every image under `dir` at size × size × channels (see the file comment). */
export async function loadImageFolder(
  dir: string,
  size: number,
  channels: ImageChannels,
  options: ImageFolderOptions = {},
): Promise<ImageDataset> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`image size ${size} is not a positive whole number`);
  const kind = await pathKind(dir);
  if (kind === 'missing') throw new DatasetError(`image folder ${dir} does not exist`, dir);
  if (kind !== 'dir') throw new DatasetError(`image folder ${dir} is a file, not a folder`, dir);
  const files = await listImageFiles(dir);
  if (files.length === 0) {
    throw new DatasetError(`image folder ${dir} holds no .png, .jpg or .jpeg images (sub-folders included)`, dir);
  }
  const stride = size * size * channels;
  const pixels = new Uint8Array(files.length * stride);
  for (let i = 0; i < files.length; i++) {
    const file = join(dir, files[i]!);
    pixels.set(prepareImage(await readBytes(file, 'image'), file, size, channels), i * stride);
    options.onProgress?.(i + 1, files.length);
    // Decoding is synchronous; yield now and then so progress messages and stop requests get through.
    if (i % 32 === 31) await new Promise<void>((r) => setImmediate(r));
  }
  const labelled = folderLabels(files);
  return datasetFromBlock(
    {
      name: `folder (${basename(dir)})`,
      kind: 'folder',
      source: `${dir} (${files.length} images, resized and centre-cropped to ${size}×${size})`,
      ...(labelled.labels ? { classLabels: labelled.classNames } : {}),
    },
    { pixels, count: files.length, size, channels, ...(labelled.labels ? { labels: labelled.labels } : {}) },
    files,
  );
}
