/**
 * The safetensors file format (as written by huggingface/safetensors): an 8-byte little-endian header
 * length, a JSON header mapping tensor names to {dtype, shape, data_offsets} plus string metadata under
 * "__metadata__", then the raw little-endian tensor bytes. Chosen so that checkpoints open in PyTorch
 * (`safetensors.torch.load_file`) without pickle, and can be read without trusting the file.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export type SafetensorsDtype = 'F32' | 'F64' | 'I32' | 'U8';

export interface NamedArray {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

export interface SafetensorsContent {
  tensors: Map<string, NamedArray>;
  metadata: Record<string, string>;
}

/**
 * What decoding found out about the tensor bytes: 'verified' when the header carried a checksum and the
 * bytes match it; 'absent' for files written without one (older studio checkpoints, other tools), whose
 * damage cannot be detected. A mismatch is an error, never a result.
 */
export type ChecksumStatus = 'verified' | 'absent';

export interface DecodedSafetensors extends SafetensorsContent {
  checksum: ChecksumStatus;
}

/**
 * Metadata key of the SHA-256 (hex) of the whole data section, i.e. every tensor's bytes in file order.
 * The encoder sets it; the decoder verifies it. Other safetensors readers ignore it like any metadata.
 */
export const DATA_CHECKSUM_KEY = 'data_sha256';

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I32: 4, U8: 1 };
/** Headers above this size are refused: a corrupt length field must not make us allocate gigabytes. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serialises tensors and metadata; tensors are laid out in the order given. */
export function encodeSafetensors(content: SafetensorsContent): Buffer {
  const header: Record<string, unknown> = { __metadata__: content.metadata };
  let offset = 0;
  for (const [name, t] of content.tensors) {
    if (name === '__metadata__') throw new Error('a tensor cannot be named __metadata__');
    const n = elementCount(t.shape);
    if (t.data.length !== n) {
      throw new Error(`tensor ${name}: shape [${t.shape.join(', ')}] needs ${n} values, got ${t.data.length}`);
    }
    const bytes = n * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  // The checksum covers exactly the bytes written after the header, in the same order.
  const hash = createHash('sha256');
  for (const t of content.tensors.values()) hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  header.__metadata__ = { ...content.metadata, [DATA_CHECKSUM_KEY]: hash.digest('hex') };
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned (the format allows trailing whitespace).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const t of content.tensors.values()) {
    const src = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (!isLittleEndian()) throw new Error('big-endian machines are not supported');
    src.copy(out, pos);
    pos += src.length;
  }
  return out;
}

/** Parses a safetensors buffer and verifies its data checksum when it has one; `source` names the file in errors. */
export function decodeSafetensors(buf: Buffer, source: string): DecodedSafetensors {
  const fail = (what: string): never => {
    throw new Error(`${source} is not a valid safetensors checkpoint: ${what}`);
  };
  if (buf.length < 8) fail(`the file has ${buf.length} bytes, too short for a header`);
  const headerLength = Number(buf.readBigUInt64LE(0));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > buf.length) {
    fail(`the header claims ${headerLength} bytes but the file has ${buf.length}`);
  }
  let header: Record<string, any>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (e) {
    return fail(`the header is not JSON (${(e as Error).message}); the file may be truncated or corrupt`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return fail('the header is not a JSON object');
  const meta: unknown = header.__metadata__;
  if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta))) {
    fail('the header\'s __metadata__ is not an object of strings');
  }
  const dataStart = 8 + headerLength;
  const dataLength = buf.length - dataStart;
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(header.__metadata__ ?? {})) {
    if (typeof v !== 'string') fail(`metadata entry ${k} is not a string`);
    metadata[k] = v as string;
  }
  const expected = metadata[DATA_CHECKSUM_KEY];
  if (expected !== undefined) {
    const actual = createHash('sha256').update(buf.subarray(dataStart)).digest('hex');
    if (actual !== expected) {
      throw new Error(
        `${source} is corrupt: its tensor data does not match the checksum stored when it was written (sha256 ${actual.slice(0, 12)}… instead of ${expected.slice(0, 12)}…), so the file was damaged on disk or in a copy; use an earlier checkpoint`,
      );
    }
  }
  const tensors = new Map<string, NamedArray>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dtype = info?.dtype as SafetensorsDtype;
    if (!(dtype in BYTES)) fail(`tensor ${name} has unsupported dtype ${String(info?.dtype)}`);
    const shape = info.shape as number[];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor ${name} has a bad shape`);
    const [begin, end] = info.data_offsets ?? [];
    const bytes = elementCount(shape) * BYTES[dtype];
    if (!Number.isInteger(begin) || !Number.isInteger(end) || end - begin !== bytes || begin < 0 || end > dataLength) {
      fail(`tensor ${name} has data offsets [${begin}, ${end}] that do not fit its shape or the file (truncated?)`);
    }
    // Copy out so the arrays are aligned and independent of the file buffer.
    const slice = Buffer.from(buf.subarray(dataStart + begin, dataStart + end));
    const ab = slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.byteLength);
    const data =
      dtype === 'F32' ? new Float32Array(ab) : dtype === 'F64' ? new Float64Array(ab) : dtype === 'I32' ? new Int32Array(ab) : new Uint8Array(ab);
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata, checksum: expected === undefined ? 'absent' : 'verified' };
}

export function readSafetensors(file: string): DecodedSafetensors {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read checkpoint ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeSafetensors(buf, file);
}

/**
 * Writes atomically: to a temporary file in the same folder, fsync, rename over the target, fsync the
 * folder. A crash leaves either the old file or the new one, never half of one.
 */
export function writeFileAtomic(file: string, data: Buffer): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'ENOSPC' ? ' (the disk is full: free space and resume)' : err.code === 'EACCES' ? ' (no permission to write there)' : '';
    throw new Error(`cannot write ${file}: ${err.code ?? err.message}${hint}`);
  }
  try {
    const dirFd = openSync(path.dirname(file), 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  } catch {
    // Some filesystems cannot fsync a directory; the rename itself already happened.
  }
}

export function writeSafetensors(file: string, content: SafetensorsContent): void {
  writeFileAtomic(file, encodeSafetensors(content));
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
