import { describe, expect, it } from 'vitest';
import { lttb, lttbIndices } from '../../src-renderer/src/charts/lttb';

function series(n: number, f: (i: number) => number) {
  const xs = Array.from({ length: n }, (_, i) => i);
  return { xs, ys: xs.map(f) };
}

describe('lttb', () => {
  it('keeps the first and last points', () => {
    const { xs, ys } = series(1000, (i) => Math.sin(i / 20));
    const idx = lttbIndices(xs, ys, 50);
    expect(idx[0]).toBe(0);
    expect(idx[idx.length - 1]).toBe(999);
  });

  it('returns at most threshold points, in increasing order', () => {
    for (const threshold of [3, 7, 100, 999]) {
      const { xs, ys } = series(1000, (i) => (i * 7919) % 101);
      const idx = lttbIndices(xs, ys, threshold);
      expect(idx.length).toBeLessThanOrEqual(threshold);
      expect(idx.length).toBe(threshold);
      for (let k = 1; k < idx.length; k++) expect(idx[k]).toBeGreaterThan(idx[k - 1]);
    }
  });

  it('returns everything when there are fewer points than the threshold', () => {
    const { xs, ys } = series(10, (i) => i);
    expect(lttbIndices(xs, ys, 20)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(lttbIndices([], [], 20)).toEqual([]);
  });

  it('picks the point that makes the largest triangle (a spike survives)', () => {
    // 5 points, threshold 3: one middle bucket (points 1…3). The spike at index 2 makes the largest
    // triangle with the first point (0,0) and the last bucket's average (4,0).
    const xs = [0, 1, 2, 3, 4];
    const ys = [0, 1, 10, -2, 0];
    expect(lttbIndices(xs, ys, 3)).toEqual([0, 2, 4]);
    // A dip is as good as a spike: area is |…|, so the most negative outlier wins here.
    expect(lttbIndices(xs, [0, 1, 2, -20, 0], 3)).toEqual([0, 3, 4]);
  });

  it('returns the kept values as arrays', () => {
    const r = lttb([0, 1, 2, 3, 4], [0, 1, 10, -2, 0], 3);
    expect(r).toEqual({ x: [0, 2, 4], y: [0, 10, 0] });
  });

  it('does not pick non-finite values when a finite one is in the bucket', () => {
    const xs = [0, 1, 2, 3, 4];
    const ys = [0, Number.NaN, 5, Number.POSITIVE_INFINITY, 0];
    expect(lttbIndices(xs, ys, 3)).toEqual([0, 2, 4]);
  });
});
