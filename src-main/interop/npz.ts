/**
 * numpy's .npz (a zip of .npy arrays, as np.savez writes them) for the sample batches of the reference's
 * scripts/image_sample.py: `samples_NxHxWx3.npz` holding arr_0, uint8 [N, H, W, 3] (and arr_1, the labels,
 * for class-conditional runs). Only C-ordered little-endian integer arrays are read.
 */
import { readFileSync } from 'node:fs';
import { readZip } from '../imageio/unzip';

export interface NpyArray {
  /** numpy's descr, e.g. '|u1', '<i8'. */
  descr: string;
  shape: number[];
  /** The raw element bytes, row-major. */
  bytes: Buffer;
}

const ITEM_BYTES: Record<string, number> = { '|u1': 1, '|i1': 1, '<i2': 2, '<i4': 4, '<i8': 8, '<u2': 2, '<u4': 4, '<f4': 4, '<f8': 8, '|b1': 1 };

export function decodeNpy(buf: Buffer, source: string): NpyArray {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${source} is not a .npy array`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${source}: unreadable .npy header ${header.trim()}`);
  if (fortran === 'True') throw new Error(`${source}: Fortran-ordered arrays are not read; save with np.ascontiguousarray`);
  const item = ITEM_BYTES[descr];
  if (!item) throw new Error(`${source}: dtype ${descr} is not read (expected uint8 images)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = buf.subarray(start + headerLen, start + headerLen + n * item);
  if (bytes.length !== n * item) throw new Error(`${source}: the array needs ${n * item} bytes, the file has ${bytes.length} (truncated?)`);
  return { descr, shape, bytes };
}

/** The arrays of an .npz by name without the .npy suffix (arr_0, arr_1, …). */
export function readNpz(file: string): Map<string, NpyArray> {
  let entries;
  try {
    entries = readZip(readFileSync(file));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return new Map(entries.filter((e) => e.name.endsWith('.npy')).map((e) => [e.name.slice(0, -4), decodeNpy(e.data, `${file}:${e.name}`)]));
}

/** The uint8 NHWC image batch of a samples npz. */
export function readSampleBatch(file: string): { count: number; size: number; channels: 3 | 1; pixels: Uint8Array } {
  const arr = readNpz(file).get('arr_0');
  if (!arr) throw new Error(`${file} has no arr_0 (np.savez(path, images) writes it)`);
  const [count, h, w, c] = arr.shape;
  if (arr.descr !== '|u1' || arr.shape.length !== 4 || h !== w || (c !== 3 && c !== 1)) {
    throw new Error(`${file}: arr_0 is ${arr.descr} [${arr.shape.join(', ')}]; expected uint8 [N, H, H, 3] images as image_sample.py writes`);
  }
  return { count, size: h, channels: c as 3 | 1, pixels: new Uint8Array(arr.bytes) };
}
