import { describe, it, expect } from 'vitest';
import {
  BatchOrder,
  datasetFromBlock,
  epochOrder,
  heldOutCount,
  makeSplit,
  pickHeldOut,
} from '../../src-main/data/dataset';

function isPermutation(p: Uint32Array, n: number): boolean {
  if (p.length !== n) return false;
  const seen = new Uint8Array(n);
  for (const v of p) {
    if (v >= n || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

describe('held-out rule', () => {
  it('is 5% capped at 1000, at least 1 from 2 images, none below', () => {
    expect(heldOutCount(0)).toBe(0);
    expect(heldOutCount(1)).toBe(0);
    expect(heldOutCount(2)).toBe(1);
    expect(heldOutCount(39)).toBe(1);
    expect(heldOutCount(40)).toBe(2);
    expect(heldOutCount(10_000)).toBe(500);
    expect(heldOutCount(50_000)).toBe(1000);
    expect(heldOutCount(1_000_000)).toBe(1000);
  });

  it('picks the same disjoint, covering split every time, spread over the index range', () => {
    const a = pickHeldOut(10_000);
    const b = pickHeldOut(10_000);
    expect(Array.from(a.heldOut)).toEqual(Array.from(b.heldOut));
    expect(a.heldOut.length).toBe(500);
    expect(a.train.length).toBe(9_500);
    const all = new Set<number>([...a.train, ...a.heldOut]);
    expect(all.size).toBe(10_000);
    // Train keeps source order.
    for (let i = 1; i < a.train.length; i++) expect(a.train[i]!).toBeGreaterThan(a.train[i - 1]!);
    // Each tenth of the range (the bundled digits are sorted by class) gets roughly its share.
    const perTenth = new Array<number>(10).fill(0);
    for (const j of a.heldOut) perTenth[Math.floor(j / 1000)]!++;
    for (const n of perTenth) expect(n).toBeGreaterThan(25);
    // ...and so does the first 50 of the held-out order.
    const firstFifty = new Set(Array.from(a.heldOut.subarray(0, 50), (j) => Math.floor(j / 1000)));
    expect(firstFifty.size).toBeGreaterThanOrEqual(8);
  });

  it('keyed by names, a new file does not reshuffle the others', () => {
    const names = Array.from({ length: 400 }, (_, i) => `img/${String(i).padStart(4, '0')}.png`);
    const before = pickHeldOut(names);
    const after = pickHeldOut([...names, 'img/zzzz.png']);
    const heldBefore = new Set(Array.from(before.heldOut, (i) => names[i]));
    const heldAfter = new Set(Array.from(after.heldOut, (i) => [...names, 'img/zzzz.png'][i]));
    expect(heldBefore.size).toBe(20);
    expect(heldAfter.size).toBe(20);
    let same = 0;
    for (const n of heldBefore) if (heldAfter.has(n)) same++;
    expect(same).toBeGreaterThanOrEqual(19);
  });
});

describe('splits and batch()', () => {
  const size = 2;
  const pixels = Uint8Array.from({ length: 5 * size * size }, (_, i) => [0, 255, 127, 128, 51][i % 5]!);
  const block = { pixels, count: 5, size, channels: 1 as const, labels: Uint8Array.from([0, 1, 2, 3, 4]) };

  it('image(i) is the HWC view; indexes outside the split throw', () => {
    const s = makeSplit(block, Uint32Array.from([3, 1]));
    expect(s.count).toBe(2);
    expect(Array.from(s.image(0))).toEqual(Array.from(pixels.subarray(12, 16)));
    expect(Array.from(s.labels!)).toEqual([3, 1]);
    expect(() => s.image(2)).toThrow(RangeError);
    expect(() => s.image(-1)).toThrow(RangeError);
  });

  it('scales u8 to [-1, 1] as u8 / 127.5 - 1 in NHWC order', () => {
    const s = makeSplit(block);
    const out = s.batch([0, 4]);
    expect(out.length).toBe(8);
    const expected = [...pixels.subarray(0, 4), ...pixels.subarray(16, 20)].map((v) => Math.fround(v / 127.5 - 1));
    expect(Array.from(out)).toEqual(expected);
    expect(out[1]).toBe(1);
    expect(out[0]).toBe(-1);
  });

  it('fills a given buffer, returns a view when it is longer, refuses a short one', () => {
    const s = makeSplit(block);
    const buf = new Float32Array(12).fill(9);
    const got = s.batch([1, 2], buf);
    expect(got.length).toBe(8);
    expect(got.buffer).toBe(buf.buffer);
    expect(buf[8]).toBe(9);
    expect(() => s.batch([1, 2, 3, 4], buf)).toThrow(/16/);
  });

  it('a dataset from one block has disjoint train and held-out with count = sum', () => {
    const big = { pixels: new Uint8Array(100 * 4), count: 100, size: 2, channels: 1 as const };
    const ds = datasetFromBlock({ name: 't', kind: 'idx', source: 'mem' }, big);
    expect(ds.count).toBe(100);
    expect(ds.train.count).toBe(95);
    expect(ds.heldOut.count).toBe(5);
    expect(ds.heldOutRule).toMatch(/5%/);
  });
});

describe('epochOrder and BatchOrder', () => {
  it('is a deterministic permutation that changes with the seed and the epoch', () => {
    const a = epochOrder(1000, 42, 0);
    expect(isPermutation(a, 1000)).toBe(true);
    expect(Array.from(epochOrder(1000, 42, 0))).toEqual(Array.from(a));
    expect(Array.from(epochOrder(1000, 43, 0))).not.toEqual(Array.from(a));
    expect(Array.from(epochOrder(1000, 42, 1))).not.toEqual(Array.from(a));
    expect(Array.from(epochOrder(1000, 42 + 2 ** 32, 0))).not.toEqual(Array.from(a));
    expect(isPermutation(epochOrder(1, 7, 3), 1)).toBe(true);
    expect(epochOrder(0, 7, 3).length).toBe(0);
  });

  it('is pinned: the first indices of a known seed never change (resume depends on it)', () => {
    // If this fails, the shuffle changed and old checkpoints will not resume on the same batches.
    expect(Array.from(epochOrder(10, 0, 0))).toEqual([3, 0, 7, 8, 6, 5, 4, 1, 9, 2]);
    expect(Array.from(epochOrder(10, 1234, 5))).toEqual([9, 1, 4, 3, 8, 5, 7, 2, 6, 0]);
  });

  it('is close to uniform: each index lands in each slot about equally often', () => {
    const n = 5;
    const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const trials = 5000;
    for (let e = 0; e < trials; e++) {
      const p = epochOrder(n, 9, e);
      for (let s = 0; s < n; s++) counts[s]![p[s]!]!++;
    }
    for (const row of counts) for (const c of row) expect(Math.abs(c - trials / n)).toBeLessThan(120);
  });

  it('rejects non-integer arguments', () => {
    expect(() => epochOrder(10, 1.5, 0)).toThrow(RangeError);
    expect(() => epochOrder(10, 1, -1)).toThrow(RangeError);
    expect(() => epochOrder(-1, 1, 0)).toThrow(RangeError);
  });

  it('draws batches across epoch boundaries and resumes mid-epoch on the same images', () => {
    const order = new BatchOrder(10, 5);
    const e0 = epochOrder(10, 5, 0);
    const e1 = epochOrder(10, 5, 1);
    const all = [...e0, ...e1];
    const b = order.batchAt(2, 4); // positions 8..11: the last two of epoch 0, the first two of epoch 1
    expect(Array.from(b)).toEqual(all.slice(8, 12));
    // A fresh order (a resumed run) gives the same batch for the same step.
    expect(Array.from(new BatchOrder(10, 5).batchAt(2, 4))).toEqual(Array.from(b));
    // A dataset smaller than the batch still works.
    const tiny = new BatchOrder(3, 1).indices(0, 7);
    expect(tiny.length).toBe(7);
    expect(new Set(tiny.subarray(0, 3)).size).toBe(3);
    const out = new Uint32Array(8);
    expect(order.indices(0, 4, out).buffer).toBe(out.buffer);
  });
});

describe('asTrainingData', () => {
  it('fits the engine trainer\'s TrainingData shape', async () => {
    const { asTrainingData } = await import('../../src-main/data/dataset');
    type TrainingData = import('../../src-shared/trainingData').TrainingData;
    const ds = datasetFromBlock(
      { name: 't', kind: 'idx', source: 'mem' },
      { pixels: new Uint8Array(40 * 4).fill(255), count: 40, size: 2, channels: 1 },
    );
    const td: TrainingData = asTrainingData(ds); // a compile-time check as much as a runtime one
    expect([td.size, td.channels, td.trainCount, td.heldOutCount]).toEqual([2, 1, 38, 2]);
    expect(Array.from(td.heldOutBatch([1]))).toEqual([1, 1, 1, 1]);
  });
});
