import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadIdx, parseIdxImages } from '../../src-main/data/idx';
import { DatasetError } from '../../src-main/data/dataset';
import { idxImages, idxLabels, idxPixel, tempDir, write } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('iddpm-idx-'));
});
afterEach(() => cleanup());

/** Every image of both splits matches idxPixel for the image number it came from. */
function expectImagesFromFile(split: { count: number; image(i: number): Uint8Array }, numbers: number[], side: number) {
  expect(split.count).toBe(numbers.length);
  numbers.forEach((n, i) => {
    const img = split.image(i);
    expect(img.length).toBe(side * side);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) expect(img[y * side + x]).toBe(idxPixel(n, y, x));
  });
}

async function expectError(p: Promise<unknown>, file: string, problem: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  expect((err as Error).message).toContain(file);
  expect((err as Error).message).toMatch(problem);
  expect((err as DatasetError).path).toBe(file);
}

describe('IDX round trips', () => {
  it.each([false, true])('a folder with train and t10k files (gzipped: %s)', async (gz) => {
    const ext = gz ? '.gz' : '';
    write(join(dir, `train-images-idx3-ubyte${ext}`), idxImages(30, 6), gz);
    write(join(dir, `train-labels-idx1-ubyte${ext}`), idxLabels(30), gz);
    write(join(dir, `t10k-images-idx3-ubyte${ext}`), idxImages(4, 6), gz);
    write(join(dir, `t10k-labels-idx1-ubyte${ext}`), idxLabels(4), gz);
    const ds = await loadIdx(dir);
    expect(ds.kind).toBe('idx');
    expect(ds.size).toBe(6);
    expect(ds.channels).toBe(1);
    expect(ds.count).toBe(34);
    // The t10k file is the held-out split, whole and in order; train is the whole train file.
    expectImagesFromFile(ds.train, Array.from({ length: 30 }, (_, i) => i), 6);
    expectImagesFromFile(ds.heldOut, [0, 1, 2, 3], 6);
    expect(Array.from(ds.train.labels!.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(ds.heldOutRule).toContain('t10k-images-idx3-ubyte');
  });

  it('a single images file: held-out by the fixed rule, labels beside it picked up', async () => {
    const file = write(join(dir, 'train-images-idx3-ubyte.gz'), idxImages(40, 5), true);
    write(join(dir, 'train-labels-idx1-ubyte'), idxLabels(40));
    const ds = await loadIdx(file);
    expect(ds.train.count).toBe(38);
    expect(ds.heldOut.count).toBe(2);
    const again = await loadIdx(file);
    expect(Array.from(again.heldOut.image(0))).toEqual(Array.from(ds.heldOut.image(0)));
    // The label of each image follows it into its split.
    // idxPixel(n, 0, 0) = 31n mod 256, and 223 is 31's inverse mod 256, so the pixel tells the image number.
    const split = [ds.train, ds.heldOut];
    const seen = new Set<number>();
    for (const s of split) {
      for (let i = 0; i < s.count; i++) {
        const n = (s.image(i)[0]! * 223) % 256;
        seen.add(n);
        expect(s.labels![i]).toBe(n % 10);
      }
    }
    expect(seen.size).toBe(40);
  });

  it('detects gzip by content, not by name, and prefers the uncompressed copy', async () => {
    write(join(dir, 'train-images-idx3-ubyte.gz'), idxImages(3, 4)); // not actually gzipped
    const ds = await loadIdx(join(dir, 'train-images-idx3-ubyte.gz'));
    expect(ds.count).toBe(3);
    write(join(dir, 'train-images.idx3-ubyte'), idxImages(5, 4)); // the dot spelling, uncompressed
    expect((await loadIdx(dir)).count).toBe(5);
  });

  it('reads the real Fashion-MNIST files when Debian ships them', async () => {
    const real = '/usr/share/datasets/fashion-mnist';
    const { existsSync } = await import('node:fs');
    if (!existsSync(join(real, 'train-images-idx3-ubyte.gz'))) return;
    const ds = await loadIdx(real);
    expect([ds.train.count, ds.heldOut.count, ds.size]).toEqual([60000, 10000, 28]);
    expect(ds.train.labels![0]).toBe(9); // the first Fashion-MNIST training image is an ankle boot
  });
});

describe('IDX errors name the file and the problem', () => {
  it('a missing file or folder', async () => {
    const p = join(dir, 'nope', 'train-images-idx3-ubyte');
    await expectError(loadIdx(p), p, /does not exist/);
  });

  it('a folder without training images', async () => {
    write(join(dir, 't10k-images-idx3-ubyte'), idxImages(2, 4));
    await expectError(loadIdx(dir), dir, /no training images.*t10k-images-idx3-ubyte/);
  });

  it('a bad magic number', async () => {
    const f = write(join(dir, 'train-images-idx3-ubyte'), idxImages(2, 4, 4, 0x12345678));
    await expectError(loadIdx(f), f, /bad magic number 0x12345678, expected 0x00000803/);
    const floats = write(join(dir, 'floats'), idxImages(2, 4, 4, 0x00000d03));
    await expectError(loadIdx(floats), floats, /bad magic number 0x00000d03: IDX float data/);
  });

  it('a label file given as images', async () => {
    const f = write(join(dir, 'train-labels-idx1-ubyte'), idxLabels(5));
    await expectError(loadIdx(f), f, /is an IDX label file/);
  });

  it('truncated data, and a truncated header', async () => {
    const full = idxImages(10, 6);
    const f = write(join(dir, 'a-images-idx3-ubyte'), full.subarray(0, full.length - 7));
    await expectError(loadIdx(f), f, /is truncated: its header declares 10 images of 6×6 \(376 bytes in all\) but the file has 369 bytes/);
    const g = write(join(dir, 'b-images-idx3-ubyte'), full.subarray(0, 10));
    await expectError(loadIdx(g), g, /is truncated: the IDX image header needs 16 bytes/);
    const e = write(join(dir, 'empty'), new Uint8Array(0));
    await expectError(loadIdx(e), e, /is empty/);
  });

  it('a truncated gzip stream', async () => {
    const gz = gzipSync(idxImages(50, 8));
    const f = write(join(dir, 'train-images-idx3-ubyte.gz'), gz.subarray(0, gz.length >> 1));
    await expectError(loadIdx(f), f, /gzip-compressed but does not decompress/);
  });

  it('wrong dimensions: not square, zero, or more data than declared', async () => {
    const f = write(join(dir, 'ns'), idxImages(2, 4, 5));
    await expectError(loadIdx(f), f, /wrong dimensions: images of 4×5 pixels; only square/);
    const z = write(join(dir, 'zero'), idxImages(2, 0, 0));
    await expectError(loadIdx(z), z, /wrong dimensions: images of 0×0/);
    const extra = new Uint8Array([...idxImages(2, 4), 1, 2, 3]);
    const x = write(join(dir, 'extra'), extra);
    await expectError(loadIdx(x), x, /wrong dimensions or extra data/);
    expect(() => parseIdxImages(idxImages(0, 4), 'mem.idx')).toThrow(/mem.idx holds no images/);
  });

  it('labels that do not pair with the images, or are malformed', async () => {
    write(join(dir, 'train-images-idx3-ubyte'), idxImages(6, 4));
    const lf = write(join(dir, 'train-labels-idx1-ubyte'), idxLabels(5));
    await expectError(loadIdx(dir), lf, /holds 5 labels but .* holds 6 images/);
    const bad = idxLabels(6);
    write(lf, bad.subarray(0, 10));
    await expectError(loadIdx(dir), lf, /is truncated: its header declares 6 labels/);
  });

  it('a test file whose images differ in size from train', async () => {
    write(join(dir, 'train-images-idx3-ubyte'), idxImages(6, 4));
    const t = write(join(dir, 't10k-images-idx3-ubyte'), idxImages(2, 5));
    await expectError(loadIdx(dir), t, /5×5 but .* 4×4/);
  });
});
