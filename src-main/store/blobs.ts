/**
 * Vectors over t (VLB terms, mse, sampler weights, timesteps) are stored as little-endian blobs: 4 bytes
 * per value instead of ~20 as JSON text, and decoding is a loop instead of a parse. Little-endian is
 * written explicitly (DataView), so a database copied between machines reads the same everywhere.
 */

/** float32 little-endian. Non-finite values survive (NaN, ±Infinity), which JSON would not keep. */
export function encodeF32(values: ArrayLike<number>): Buffer {
  const buf = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i], i * 4);
  return buf;
}

export function decodeF32(blob: Uint8Array | null | undefined): number[] {
  if (!blob) return [];
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const n = blob.byteLength >>> 2;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** int32 little-endian, for timestep indices. */
export function encodeI32(values: ArrayLike<number>): Buffer {
  const buf = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeInt32LE(values[i], i * 4);
  return buf;
}

export function decodeI32(blob: Uint8Array | null | undefined): number[] {
  if (!blob) return [];
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const n = blob.byteLength >>> 2;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}
