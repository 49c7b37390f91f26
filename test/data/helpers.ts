/**
 * Small builders for dataset files written into temp folders by the data tests.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function tempDir(prefix = 'iddpm-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function write(file: string, bytes: Uint8Array | string, gzip = false): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, gzip ? gzipSync(bytes) : bytes);
  return file;
}

function be32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

/** Pixel value of image n at (y, x) in the synthetic IDX sets: distinct per image and position. */
export function idxPixel(n: number, y: number, x: number): number {
  return (n * 31 + y * 7 + x * 3) % 256;
}

/** An IDX image file: magic 0x00000803, [n, rows, cols], then pixels from idxPixel. */
export function idxImages(n: number, rows: number, cols = rows, magic = 0x00000803): Uint8Array {
  const header = [...be32(magic), ...be32(n), ...be32(rows), ...be32(cols)];
  const out = new Uint8Array(16 + n * rows * cols);
  out.set(header);
  let k = 16;
  for (let i = 0; i < n; i++) for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) out[k++] = idxPixel(i, y, x);
  return out;
}

/** An IDX label file with label i % 10. */
export function idxLabels(n: number): Uint8Array {
  const out = new Uint8Array(8 + n);
  out.set([...be32(0x00000801), ...be32(n)]);
  for (let i = 0; i < n; i++) out[8 + i] = i % 10;
  return out;
}

/** CIFAR-10 record n: label n % 10; pixel (y, x) has R = (n + y) % 256, G = (x * 5) % 256, B = (y * x + 3 * n) % 256. */
export function cifarRgb(n: number, y: number, x: number): [number, number, number] {
  return [(n + y) % 256, (x * 5) % 256, (y * x + 3 * n) % 256];
}

/** A CIFAR-10 binary batch of `count` records starting at record number `first`, CHW planar. */
export function cifarBatch(count: number, first = 0): Uint8Array {
  const out = new Uint8Array(count * 3073);
  for (let k = 0; k < count; k++) {
    const n = first + k;
    const o = k * 3073;
    out[o] = n % 10;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const [r, g, b] = cifarRgb(n, y, x);
        out[o + 1 + y * 32 + x] = r;
        out[o + 1 + 1024 + y * 32 + x] = g;
        out[o + 1 + 2048 + y * 32 + x] = b;
      }
    }
  }
  return out;
}

/** The synthetic texture the Pillow-pinned resize cases use (same formula in test and in Pillow). */
export function texture(w: number, h: number, c: number): Uint8Array {
  const out = new Uint8Array(w * h * c);
  let k = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) out[k++] = (x * 37 + y * 91 + ch * 53 + ((x * y) % 17) * 11) % 256;
    }
  }
  return out;
}
