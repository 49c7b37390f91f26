/** Class labels for the feature classifier: image-folder labels from file names, and the no-labels refusal. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { asLabelledData, classifierKey, folderLabels, loadBundledMnist, loadImageFolder } from '../../src-main/data';
import { tempDir, write } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('iddpm-labels-'));
});
afterEach(() => cleanup());

function greyPng(side: number, value: number): Uint8Array {
  const p = new PNG({ width: side, height: side });
  p.data = Buffer.alloc(side * side * 4, value);
  for (let i = 3; i < p.data.length; i += 4) p.data[i] = 255;
  return PNG.sync.write(p);
}

describe('image folder labels (the name before the first _)', () => {
  it('numbers the classes in sorted order, sub-folders included', () => {
    const r = folderLabels(['dog_1.png', 'a/cat_2.png', 'cat_x_y.jpg', 'b/c/emu_.png']);
    expect(r.labels).not.toBeNull();
    if (!r.labels) return;
    expect((r as { classNames: readonly string[] }).classNames).toEqual(['cat', 'dog', 'emu']);
    expect(Array.from(r.labels)).toEqual([1, 0, 0, 2]);
  });

  it('has none when a file lacks the prefix or only one class exists, and says why', () => {
    expect(folderLabels(['cat_1.png', 'photo.png'])).toEqual({ labels: null, reason: expect.stringMatching(/photo\.png has no class prefix/) });
    expect(folderLabels(['_1.png', 'cat_2.png']).labels).toBeNull();
    expect(folderLabels(['cat_1.png', 'cat_2.png'])).toEqual({ labels: null, reason: 'all files are of one class (cat)' });
  });

  it('a labelled folder loads with labels on both splits and becomes LabelledData', async () => {
    for (let i = 0; i < 40; i++) write(join(dir, `${i % 2 ? 'light' : 'dark'}_${i}.png`), greyPng(8, i % 2 ? 220 : 20));
    const ds = await loadImageFolder(dir, 8, 1);
    expect(ds.classLabels).toEqual(['dark', 'light']);
    const data = asLabelledData(ds);
    expect(data.classes).toBe(2);
    expect(data.heldOut.count).toBe(2);
    // Each image's label agrees with its brightness, in both splits.
    for (const split of [data.train, data.heldOut]) {
      for (let i = 0; i < split.count; i++) expect(split.batch([i])[0]! > 0 ? 1 : 0).toBe(split.labels[i]);
    }
  });

  it('a folder without labels is refused with "no labels: NLL only" and how to add them', async () => {
    for (let i = 0; i < 4; i++) write(join(dir, `img${i}.png`), greyPng(8, 100));
    const ds = await loadImageFolder(dir, 8, 1);
    expect(() => asLabelledData(ds)).toThrow(/^no labels: NLL only: folder \(.*\) has no class labels.*name every file <class>_<anything>\.png/);
  });
});

describe('bundled MNIST as labelled data', () => {
  it('has ten classes, labels 0..9 on both splits', async () => {
    const data = asLabelledData(await loadBundledMnist());
    expect(data.classes).toBe(10);
    expect(data.train.count + data.heldOut.count).toBe(10_000);
    expect(new Set(Array.from(data.heldOut.labels)).size).toBe(10);
  });
});

describe('classifier cache key', () => {
  it('separates sources, paths and image shapes', () => {
    expect(classifierKey({ kind: 'mnist' }, { size: 32, channels: 1 })).toBe('mnist-bundled-32px-1ch');
    const a = classifierKey({ kind: 'folder', path: '/x/cats' }, { size: 64, channels: 3 });
    const b = classifierKey({ kind: 'folder', path: '/y/cats' }, { size: 64, channels: 3 });
    expect(a).toMatch(/^folder-cats-[0-9a-f]{8}-64px-3ch$/);
    expect(a).not.toBe(b);
    expect(classifierKey({ kind: 'folder', path: '/x/cats' }, { size: 32, channels: 3 })).not.toBe(a);
  });
});
