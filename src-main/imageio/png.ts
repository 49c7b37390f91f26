/**
 * A small PNG writer: 8-bit grayscale or RGB, deflate-compressed, with optional tEXt chunks so an
 * exported sample carries the settings that made it (run config, checkpoint, sampler, seed …).
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { crc32 } from './crc32';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export interface PngImage {
  width: number;
  height: number;
  /** 1 (gray) or 3 (RGB). */
  channels: 1 | 3;
  /** Row-major, interleaved channels. */
  pixels: Uint8Array;
}

/** Encodes a PNG; `text` entries become tEXt chunks (keys ≤ 79 Latin-1 characters). */
export function encodePng(img: PngImage, text: Record<string, string> = {}): Buffer {
  const { width, height, channels, pixels } = img;
  if (pixels.length !== width * height * channels) {
    throw new Error(`PNG: ${width}×${height}×${channels} needs ${width * height * channels} bytes, got ${pixels.length}`);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // colour type: gray or truecolour
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    Buffer.from(pixels.buffer, pixels.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  const textChunks = Object.entries(text).map(([key, value]) => {
    if (!/^[\x20-\x7e]{1,79}$/.test(key)) throw new Error(`PNG text key '${key}' must be 1–79 printable ASCII characters`);
    // tEXt is Latin-1; JSON with non-Latin-1 characters is escaped so it survives.
    const safe = value.replace(/[^\x00-\xff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return chunk('tEXt', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(safe, 'latin1')]));
  });
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), ...textChunks, chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Reads the tEXt chunks of a PNG (to check exported settings). */
export function readPngText(png: Buffer): Record<string, string> {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  const out: Record<string, string> = {};
  let pos = 8;
  while (pos + 12 <= png.length) {
    const length = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    if (type === 'tEXt') {
      const data = png.subarray(pos + 8, pos + 8 + length);
      const zero = data.indexOf(0);
      out[data.toString('latin1', 0, zero)] = data.toString('latin1', zero + 1);
    }
    if (type === 'IEND') break;
    pos += 12 + length;
  }
  return out;
}

/** Decodes the PNGs this module writes (8-bit gray/RGB, filter 0) back to pixels: for tests and checks. */
export function decodeOwnPng(png: Buffer): PngImage {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const channels = png[25] === 0 ? 1 : 3;
  const idat: Buffer[] = [];
  let pos = 8;
  while (pos + 12 <= png.length) {
    const length = png.readUInt32BE(pos);
    if (png.toString('latin1', pos + 4, pos + 8) === 'IDAT') idat.push(png.subarray(pos + 8, pos + 8 + length));
    pos += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  return { width, height, channels: channels as 1 | 3, pixels };
}
