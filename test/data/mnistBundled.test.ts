import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { loadBundledMnist, readBundledMnist, MNIST_BUNDLED_COUNT } from '../../src-main/data/mnistBundled';
import { DatasetError } from '../../src-main/data/dataset';
import { tempDir, write } from './helpers';

describe('bundled MNIST digits', () => {
  it('has 10,000 28×28×1 images in 0..255, with labels 0..9 in the package counts', async () => {
    const t0 = performance.now();
    const ds = await loadBundledMnist();
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(10_000);
    expect(MNIST_BUNDLED_COUNT).toBe(10_000);
    expect([ds.kind, ds.size, ds.channels, ds.count]).toEqual(['mnist', 28, 1, 10_000]);
    expect(ds.classLabels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const perDigit = new Array<number>(10).fill(0);
    let max = 0;
    let nonZero = 0;
    for (const split of [ds.train, ds.heldOut]) {
      for (let i = 0; i < split.count; i++) {
        perDigit[split.labels![i]!]!++;
        for (const v of split.image(i)) {
          if (v > max) max = v;
          if (v > 0) nonZero++;
        }
      }
    }
    expect(perDigit).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    expect(max).toBe(255);
    // MNIST digits cover about a fifth of the frame.
    expect(nonZero / (10_000 * 784)).toBeGreaterThan(0.1);
    expect(nonZero / (10_000 * 784)).toBeLessThan(0.3);
  });

  it('has a fixed held-out split of 500, disjoint from train, covering every digit', async () => {
    const a = await loadBundledMnist();
    const b = await loadBundledMnist();
    expect([a.train.count, a.heldOut.count]).toEqual([9_500, 500]);
    const key = (img: Uint8Array) => Buffer.from(img).toString('base64');
    const held = new Set<string>();
    for (let i = 0; i < a.heldOut.count; i++) {
      expect(key(a.heldOut.image(i))).toBe(key(b.heldOut.image(i)));
      held.add(key(a.heldOut.image(i)));
    }
    let overlap = 0;
    for (let i = 0; i < a.train.count; i++) if (held.has(key(a.train.image(i)))) overlap++;
    // MNIST has no duplicate digits, so any overlap would be the split leaking.
    expect(overlap).toBe(0);
    expect(new Set(a.heldOut.labels).size).toBe(10);
  });

  it('batch() gives NHWC float32 in [-1, 1] with background at -1', async () => {
    const ds = await loadBundledMnist();
    const x = ds.train.batch([0, 1, 2, 3]);
    expect(x.length).toBe(4 * 28 * 28);
    let min = Infinity;
    let max = -Infinity;
    for (const v of x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(-1);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
    expect(x[0]).toBe(-1); // the top-left corner is background
    const img = ds.train.image(2);
    for (let k = 0; k < 784; k++) expect(x[2 * 784 + k]).toBe(Math.fround(img[k]! / 127.5 - 1));
  });

  it('a malformed or missing digit file is named', async () => {
    const { dir, cleanup } = tempDir('iddpm-mnist-');
    try {
      for (let d = 0; d < 10; d++) write(join(dir, `${d}.json`), JSON.stringify({ data: new Array(784).fill(0.5) }));
      const block = await readBundledMnist(dir).catch((e: unknown) => e);
      expect(block).toBeInstanceOf(DatasetError);
      expect((block as Error).message).toMatch(/hold 10 images, expected 10000/);
      const bad = write(join(dir, '3.json'), '{"data": [0.1, 2.5]}');
      await expect(readBundledMnist(dir)).rejects.toThrow(`bundled MNIST file ${bad} is malformed: value 2.5`);
      write(bad, '{"data": [0.1, ');
      await expect(readBundledMnist(dir)).rejects.toThrow(/3\.json is malformed: not JSON/);
      write(bad, JSON.stringify({ data: new Array(700).fill(0) }));
      await expect(readBundledMnist(dir)).rejects.toThrow(/3\.json is malformed: 700 values/);
      const missing = join(dir, 'gone');
      await expect(readBundledMnist(missing)).rejects.toThrow(`bundled MNIST file ${join(missing, '0.json')} does not exist`);
    } finally {
      cleanup();
    }
  });
});
