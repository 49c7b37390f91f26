import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { join } from 'node:path';
import { openDataset, defaultDatasetPath } from '../../src-main/data/openDataset';
import { fitChannels, fitToSize, defaultFitMode, padImage } from '../../src-main/data/fit';
import { DatasetError, datasetFromBlock, type ImageDataset } from '../../src-main/data/dataset';
import { cifarBatch, idxImages, idxLabels, tempDir, write } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('iddpm-open-'));
});
afterEach(() => cleanup());

function tinyGrey(count: number, size: number, f: (n: number, y: number, x: number) => number): ImageDataset {
  const pixels = new Uint8Array(count * size * size);
  for (let n = 0; n < count; n++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) pixels[(n * size + y) * size + x] = f(n, y, x);
  return datasetFromBlock({ name: 'tiny', kind: 'idx', source: 'memory' }, { pixels, count, size, channels: 1 });
}

describe('fitToSize and fitChannels', () => {
  it('pads 28 → 32 with 2 px of background on each side by default', () => {
    expect(defaultFitMode(28, 32)).toBe('pad');
    expect(defaultFitMode(28, 16)).toBe('resize');
    expect(defaultFitMode(28, 64)).toBe('resize');
    const ds = tinyGrey(20, 28, () => 200);
    const fit = fitToSize(ds, 32);
    expect([fit.size, fit.channels, fit.train.count, fit.heldOut.count]).toEqual([32, 1, 19, 1]);
    const img = fit.train.image(0);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
        expect(img[y * 32 + x]).toBe(inside ? 200 : 0);
      }
    }
    expect(fit.train.batch([0])[0]).toBe(-1);
    expect(fit.source).toContain('padded 28→32');
  });

  it('resizes 28 → 16 and 28 → 32 on request; a constant image stays constant', () => {
    const ds = tinyGrey(4, 28, () => 90);
    const small = fitToSize(ds, 16);
    expect(small.size).toBe(16);
    expect(small.train.image(0).every((v) => v === 90)).toBe(true);
    const big = fitToSize(ds, 32, 'resize');
    expect(big.train.image(1).every((v) => v === 90)).toBe(true);
    expect(() => fitToSize(ds, 16, 'pad')).toThrow(/cannot pad 28 px images down to 16/);
    expect(fitToSize(ds, 28)).toBe(ds);
  });

  it('pads odd differences with the extra pixel at the bottom/right', () => {
    const out = padImage(Uint8Array.from([1, 2, 3, 4]), 2, 1, 5);
    // prettier-ignore
    expect(Array.from(out)).toEqual([
      0, 0, 0, 0, 0,
      0, 1, 2, 0, 0,
      0, 3, 4, 0, 0,
      0, 0, 0, 0, 0,
      0, 0, 0, 0, 0,
    ]);
  });

  it('replicates grey into RGB and reduces RGB to PIL luminance', () => {
    const ds = tinyGrey(3, 2, (n, y, x) => n * 10 + y * 2 + x);
    const rgb = fitChannels(ds, 3);
    expect(rgb.channels).toBe(3);
    const g = ds.train.image(0);
    const c = rgb.train.image(0);
    for (let i = 0; i < 4; i++) expect([c[3 * i], c[3 * i + 1], c[3 * i + 2]]).toEqual([g[i], g[i], g[i]]);
    const back = fitChannels(rgb, 1);
    expect(Array.from(back.train.image(0))).toEqual(Array.from(g));
  });
});

describe('openDataset', () => {
  it('bundled MNIST at 32×32×1 (padded) and 16×16×3 (resized, replicated)', async () => {
    const a = await openDataset({ kind: 'mnist' }, { size: 32, channels: 1 });
    expect([a.size, a.channels, a.train.count, a.heldOut.count]).toEqual([32, 1, 9500, 500]);
    expect(a.train.image(0)[0]).toBe(0);
    const b = await openDataset({ kind: 'mnist' }, { size: 16, channels: 3 });
    expect([b.size, b.channels]).toEqual([16, 3]);
  });

  it('dispatches idx, cifar10 and mnist-with-a-path to their loaders', async () => {
    write(join(dir, 'mn', 'train-images-idx3-ubyte'), idxImages(20, 28));
    write(join(dir, 'mn', 'train-labels-idx1-ubyte'), idxLabels(20));
    const m = await openDataset({ kind: 'mnist', path: join(dir, 'mn') }, { size: 32, channels: 1 });
    expect([m.kind, m.name, m.size, m.count]).toEqual(['mnist', 'MNIST (IDX files)', 32, 20]);
    const i = await openDataset({ kind: 'idx', path: join(dir, 'mn') }, { size: 28, channels: 1 });
    expect([i.kind, i.size]).toEqual(['idx', 28]);
    write(join(dir, 'c', 'data_batch_1.bin'), cifarBatch(3));
    const c = await openDataset({ kind: 'cifar10', path: join(dir, 'c') }, { size: 32, channels: 3 });
    expect([c.kind, c.size, c.channels, c.count]).toEqual(['cifar10', 32, 3, 3]);
  });

  it('uses the default datasets folder when dataset.path is not set', async () => {
    write(join(dir, 'cifar10', 'cifar-10-batches-bin', 'data_batch_1.bin'), cifarBatch(2));
    expect(defaultDatasetPath('cifar10', dir)).toBe(join(dir, 'cifar10'));
    const c = await openDataset({ kind: 'cifar10' }, { size: 32, channels: 3 }, { datasetsDir: dir });
    expect(c.count).toBe(2);
    const missing = join(dir, 'idx');
    await expect(openDataset({ kind: 'idx' }, { size: 28, channels: 1 }, { datasetsDir: dir })).rejects.toThrow(
      `dataset.path is not set and the default folder for kind 'idx', ${missing}, does not exist`,
    );
  });

  it('says which field to set when a path is needed', async () => {
    await expect(openDataset({ kind: 'folder' }, { size: 32, channels: 3 })).rejects.toThrow(
      "dataset.path is required for kind 'folder'",
    );
    await expect(openDataset({ kind: 'folder', path: '  ' }, { size: 32, channels: 3 })).rejects.toThrow(DatasetError);
    await expect(openDataset({ kind: 'cifar10' }, { size: 32, channels: 3 })).rejects.toThrow(
      /dataset\.path is required for kind 'cifar10' \(no default datasets folder is configured\): set it to the folder of CIFAR-10/,
    );
    await expect(openDataset({ kind: 'idx' }, { size: 32, channels: 1 })).rejects.toThrow(/dataset\.path is required for kind 'idx'/);
  });

  it('rejects a bad target or kind', async () => {
    await expect(openDataset({ kind: 'mnist' }, { size: 32, channels: 2 })).rejects.toThrow(/model\.imageChannels 2/);
    await expect(openDataset({ kind: 'mnist' }, { size: 0, channels: 1 })).rejects.toThrow(/model\.imageSize 0/);
    await expect(
      openDataset({ kind: 'lsun' as unknown as 'mnist' }, { size: 32, channels: 1 }),
    ).rejects.toThrow(/dataset\.kind 'lsun' is not one of mnist, idx, cifar10, folder/);
  });

  it('passes a missing file error through with the file named', async () => {
    const p = join(dir, 'absent');
    await expect(openDataset({ kind: 'idx', path: p }, { size: 28, channels: 1 })).rejects.toThrow(`${p} does not exist`);
    await expect(openDataset({ kind: 'folder', path: p }, { size: 28, channels: 1 })).rejects.toThrow(
      `image folder ${p} does not exist`,
    );
  });
});
