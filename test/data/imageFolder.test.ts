import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { encode as encodeJpeg } from 'jpeg-js';
import { listImageFiles, loadImageFolder } from '../../src-main/data/imageFolder';
import { DatasetError } from '../../src-main/data/dataset';
import { resizeCropLikeReference } from '../../src-main/data/resample';
import { tempDir, texture, write } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('iddpm-folder-'));
});
afterEach(() => cleanup());

/** RGBA bytes from a pixel function. */
function rgba(w: number, h: number, f: (x: number, y: number) => [number, number, number, number?]): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b, a] = f(x, y);
      out.set([r, g, b, a ?? 255], (y * w + x) * 4);
    }
  }
  return out;
}

function png(w: number, h: number, data: Uint8Array): Uint8Array {
  const p = new PNG({ width: w, height: h });
  p.data = Buffer.from(data);
  return PNG.sync.write(p);
}

function jpg(w: number, h: number, data: Uint8Array, quality = 95): Uint8Array {
  return encodeJpeg({ width: w, height: h, data }, quality).data;
}

async function expectError(p: Promise<unknown>, file: string, problem: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  expect((err as Error).message).toContain(file);
  expect((err as Error).message).toMatch(problem);
}

describe('image folder', () => {
  it('lists .png/.jpg/.jpeg recursively, sorted per folder, skipping hidden and other files', async () => {
    const tiny = png(1, 1, rgba(1, 1, () => [0, 0, 0]));
    for (const name of ['b.png', 'a.JPG', 'sub/z.jpeg', 'sub/a.png', 'A.png', '.hidden.png', 'notes.txt', '.git/x.png']) {
      write(join(dir, name), tiny);
    }
    expect(await listImageFiles(dir)).toEqual(['A.png', 'a.JPG', 'b.png', 'sub/a.png', 'sub/z.jpeg']);
  });

  it('loads a PNG and a JPEG at the target size, 64×48 → 43×32 → centre 32×32', async () => {
    // PNG: the Pillow-pinned texture, so the folder path equals the checked resizer on exact pixels.
    const src = texture(64, 48, 3);
    const pngRgba = rgba(64, 48, (x, y) => {
      const o = (y * 64 + x) * 3;
      return [src[o]!, src[o + 1]!, src[o + 2]!, 128]; // alpha is dropped, as convert("RGB") does
    });
    write(join(dir, 'a.png'), png(64, 48, pngRgba));
    // JPEG: left half dark, right half light, a smooth image that survives compression.
    write(join(dir, 'b.jpg'), jpg(64, 48, rgba(64, 48, (x) => (x < 32 ? [40, 40, 40] : [220, 220, 220]))));
    const progress: number[] = [];
    const ds = await loadImageFolder(dir, 32, 3, { onProgress: (d) => progress.push(d) });
    expect(progress).toEqual([1, 2]);
    expect([ds.size, ds.channels, ds.count, ds.train.count, ds.heldOut.count]).toEqual([32, 3, 2, 1, 1]);
    const all = [ds.train, ds.heldOut].map((s) => s.image(0));
    const fromPng = all.find((img) => img[1] !== img[0])!; // the texture's channels differ, the grey JPEG's do not
    const fromJpg = all.find((img) => img !== fromPng)!;
    // Pillow: sum 392773 for this input (see resample.test.ts).
    expect(fromPng.reduce((s, v) => s + v, 0)).toBe(392773);
    expect(Array.from(fromPng)).toEqual(Array.from(resizeCropLikeReference(src, 64, 48, 3, 32)));
    // The edge sits at source x = 32 → resized x ≈ 21.5 → cropped x ≈ 16.5 (crop_x = 5): centred.
    const row = Array.from({ length: 32 }, (_, x) => fromJpg[(16 * 32 + x) * 3]!);
    for (let x = 0; x <= 13; x++) expect(Math.abs(row[x]! - 40)).toBeLessThanOrEqual(6);
    for (let x = 19; x < 32; x++) expect(Math.abs(row[x]! - 220)).toBeLessThanOrEqual(6);
    expect(row[15]!).toBeLessThan(130);
    expect(row[17]!).toBeGreaterThan(130);
  });

  it('makes luminance for 1 channel, and the split is stable across loads', async () => {
    for (let i = 0; i < 30; i++) {
      write(join(dir, `img${String(i).padStart(2, '0')}.png`), png(8, 8, rgba(8, 8, () => [255, 0, i])));
    }
    const a = await loadImageFolder(dir, 4, 1);
    const b = await loadImageFolder(dir, 4, 1);
    expect([a.channels, a.train.count, a.heldOut.count]).toEqual([1, 29, 1]);
    expect(Array.from(a.heldOut.image(0))).toEqual(Array.from(b.heldOut.image(0)));
    // 255·0.299 + b·0.114 ≈ 76 (+ up to 3.3): PIL's convert("L") weights.
    for (let i = 0; i < a.train.count; i++) {
      const v = a.train.image(i)[0]!;
      expect(v).toBeGreaterThanOrEqual(76);
      expect(v).toBeLessThanOrEqual(80);
    }
  });

  it('errors name the file: undecodable PNG, undecodable JPEG, unknown format, empty, missing folder', async () => {
    const good = png(4, 4, rgba(4, 4, () => [1, 2, 3]));
    write(join(dir, 'ok.png'), good);
    const broken = write(join(dir, 'z-broken.png'), good.subarray(0, 40));
    await expectError(loadImageFolder(dir, 4, 3), broken, /could not be decoded as PNG/);
    cleanup();
    ({ dir, cleanup } = tempDir('iddpm-folder-'));
    const j = jpg(16, 16, rgba(16, 16, () => [9, 9, 9]));
    const badJpg = write(join(dir, 'bad.jpg'), j.subarray(0, 30));
    await expectError(loadImageFolder(dir, 4, 3), badJpg, /could not be decoded as JPEG/);
    write(badJpg, 'this is text, not a picture');
    await expectError(loadImageFolder(dir, 4, 3), badJpg, /is neither PNG nor JPEG \(it starts with bytes 74 68 69 73\)/);
    write(badJpg, new Uint8Array(0));
    await expectError(loadImageFolder(dir, 4, 3), badJpg, /is empty/);
    const none = join(dir, 'none');
    await expectError(loadImageFolder(none, 4, 3), none, /does not exist/);
    const noImages = join(dir, 'empty');
    write(join(noImages, 'a.txt'), 'x');
    await expectError(loadImageFolder(noImages, 4, 3), noImages, /holds no \.png, \.jpg or \.jpeg images/);
  });
});

describe('image folder listing with links', () => {
  it('follows a symlinked folder once and does not loop on a link back up', async () => {
    const { symlinkSync } = await import('node:fs');
    const { dir: d, cleanup: done } = tempDir('iddpm-links-');
    try {
      write(join(d, 'real', 'x.png'), png(1, 1, rgba(1, 1, () => [0, 0, 0])));
      symlinkSync(join(d, 'real'), join(d, 'real', 'loop'));
      expect(await listImageFiles(d)).toEqual(['real/x.png']);
    } finally {
      done();
    }
  });
});
