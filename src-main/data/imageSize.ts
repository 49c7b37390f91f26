/**
 * An image's width and height read from its header, before anything is decoded, so a small file that
 * claims a huge image (a decompression bomb: a 1 MB PNG of 31000² zero pixels inflates to 6.5 GB) is
 * refused instead of filling memory. PNG: the IHDR chunk, which the format requires first. JPEG: the first
 * start-of-frame segment (SOF0–SOF15 except the DHT/JPG/DAC markers C4, C8, CC).
 */

/** PIL's Image.MAX_IMAGE_PIXELS, the limit the reference's loader (PIL) warns at: ~89.5 megapixels. */
export const MAX_IMAGE_PIXELS = Math.floor((1024 * 1024 * 1024) / 4 / 3);

export interface ImageSize {
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function be16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function be32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;
}

/** Width and height from a PNG's IHDR, or null when the header is not there (the decoder then says why). */
export function pngSize(b: Uint8Array): ImageSize | null {
  if (b.length < 24 || !PNG_SIGNATURE.every((v, i) => b[i] === v)) return null;
  const isIhdr = b[12] === 0x49 && b[13] === 0x48 && b[14] === 0x44 && b[15] === 0x52;
  return isIhdr ? { width: be32(b, 16), height: be32(b, 20) } : null;
}

/** Width and height from a JPEG's first frame header, or null when none is found. */
export function jpegSize(b: Uint8Array): ImageSize | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 3 < b.length) {
    if (b[i] !== 0xff) return null; // not at a marker: a damaged stream, left to the decoder
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    // Markers without a length: TEM, RSTn, SOI, EOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      i += 2;
      continue;
    }
    const length = be16(b, i + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (i + 9 > b.length) return null;
      return { height: be16(b, i + 5), width: be16(b, i + 7) };
    }
    if (marker === 0xda) return null; // scan data before any frame header
    i += 2 + length;
  }
  return null;
}

/** The size a PNG or JPEG header claims, or null for anything else. */
export function imageSize(b: Uint8Array): ImageSize | null {
  return pngSize(b) ?? jpegSize(b);
}
