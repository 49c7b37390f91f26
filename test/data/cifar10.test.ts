import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { join } from 'node:path';
import { loadCifar10, parseCifarBatch } from '../../src-main/data/cifar10';
import { DatasetError } from '../../src-main/data/dataset';
import { cifarBatch, cifarRgb, tempDir, write } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('iddpm-cifar-'));
});
afterEach(() => cleanup());

async function expectError(p: Promise<unknown>, file: string, problem: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  expect((err as Error).message).toContain(file);
  expect((err as Error).message).toMatch(problem);
}

describe('CIFAR-10 binary batches', () => {
  it('turns CHW planar records into HWC with R, G, B in place', () => {
    // One record whose pixel (y=3, x=5) is R=200, G=10, B=77 and every other pixel is 0.
    const rec = new Uint8Array(3073);
    rec[0] = 7;
    const p = 3 * 32 + 5;
    rec[1 + p] = 200;
    rec[1 + 1024 + p] = 10;
    rec[1 + 2048 + p] = 77;
    const block = parseCifarBatch(rec, 'one.bin');
    expect(block.count).toBe(1);
    expect(block.labels![0]).toBe(7);
    const o = (3 * 32 + 5) * 3;
    expect(Array.from(block.pixels.subarray(o, o + 3))).toEqual([200, 10, 77]);
    let nonZero = 0;
    for (const v of block.pixels) if (v !== 0) nonZero++;
    expect(nonZero).toBe(3);
  });

  it.each([false, true])('loads a folder of batches with test_batch.bin held out (in a subfolder: %s)', async (sub) => {
    const batches = sub ? join(dir, 'cifar-10-batches-bin') : dir;
    write(join(batches, 'data_batch_1.bin'), cifarBatch(3, 0));
    write(join(batches, 'data_batch_2.bin'), cifarBatch(2, 3));
    write(join(batches, 'data_batch_10.bin'), cifarBatch(1, 5)); // numeric order, not string order
    write(join(batches, 'test_batch.bin'), cifarBatch(2, 100));
    const ds = await loadCifar10(dir);
    expect([ds.size, ds.channels, ds.count, ds.train.count, ds.heldOut.count]).toEqual([32, 3, 8, 6, 2]);
    expect(ds.classLabels).toContain('airplane');
    for (let n = 0; n < 6; n++) {
      const img = ds.train.image(n);
      for (const [y, x] of [
        [0, 0],
        [31, 1],
        [7, 30],
      ] as const) {
        const o = (y * 32 + x) * 3;
        expect(Array.from(img.subarray(o, o + 3))).toEqual(cifarRgb(n, y, x));
      }
      expect(ds.train.labels![n]).toBe(n % 10);
    }
    const t = ds.heldOut.image(1);
    expect(Array.from(t.subarray((2 * 32 + 9) * 3, (2 * 32 + 9) * 3 + 3))).toEqual(cifarRgb(101, 2, 9));
    expect(ds.heldOutRule).toContain('test_batch.bin');
  });

  it('reads class names from batches.meta.txt', async () => {
    write(join(dir, 'data_batch_1.bin'), cifarBatch(2));
    write(join(dir, 'batches.meta.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
    expect((await loadCifar10(dir)).classLabels).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
  });

  it('a single batch file: held out by the fixed rule', async () => {
    const f = write(join(dir, 'data_batch_1.bin'), cifarBatch(40));
    const ds = await loadCifar10(f);
    expect([ds.train.count, ds.heldOut.count]).toEqual([38, 2]);
  });

  it('errors: wrong size, bad label, empty, missing, no batches, an archive', async () => {
    const f = write(join(dir, 'data_batch_1.bin'), new Uint8Array(3073 * 2 + 5));
    await expectError(
      loadCifar10(f),
      f,
      /is not a CIFAR-10 binary batch: size 6151 is not a multiple of 3073/,
    );
    const c100 = write(join(dir, 'train.bin'), new Uint8Array(3074 * 3));
    await expectError(loadCifar10(c100), c100, /looks like CIFAR-100/);
    const bad = cifarBatch(2);
    bad[3073] = 12;
    const l = write(join(dir, 'bad.bin'), bad);
    await expectError(loadCifar10(l), l, /record 1 has label 12/);
    const e = write(join(dir, 'empty.bin'), new Uint8Array(0));
    await expectError(loadCifar10(e), e, /is empty/);
    const missing = join(dir, 'nowhere');
    await expectError(loadCifar10(missing), missing, /does not exist/);
    const emptyDir = join(dir, 'sub');
    write(join(emptyDir, 'readme.txt'), 'hi');
    await expectError(loadCifar10(emptyDir), emptyDir, /holds no data_batch_\*\.bin/);
    const tgz = write(join(dir, 'cifar-10-binary.tar.gz'), new Uint8Array([0x1f, 0x8b, 0]));
    await expectError(loadCifar10(tgz), tgz, /is an archive: extract it/);
  });
});
