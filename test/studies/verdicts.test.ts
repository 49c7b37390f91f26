/** The arithmetic behind the study verdicts: each function against hand-computed cases, including the edges. */
import { describe, expect, it } from 'vitest';
import {
  compareSeries,
  comparisonLine,
  comparisonOutcome,
  firstNonUniformStep,
  fmt,
  logNoise,
  median,
  pairAtCommonX,
  tailShare,
} from '../../src-shared/studies/verdicts';

describe('pairAtCommonX', () => {
  it('keeps only the x both series have, with finite values, in increasing x', () => {
    const a = { x: [300, 100, 200, 400], y: [3, 1, Number.NaN, 4] };
    const b = { x: [100, 200, 300], y: [10, 20, 30] };
    expect(pairAtCommonX(a, b)).toEqual([
      { x: 100, a: 1, b: 10 },
      { x: 300, a: 3, b: 30 },
    ]);
  });
});

describe('compareSeries and comparisonOutcome', () => {
  const pairs = [
    { x: 1, a: 1.6, b: 1.5 },
    { x: 2, a: 1.4, b: 1.5 },
    { x: 3, a: 1.3, b: 1.5 },
    { x: 4, a: 1.42, b: 1.51 },
  ];

  it('counts the points on the claimed side and looks at the last', () => {
    const c = compareSeries(pairs, 'below');
    expect(c).toMatchObject({ agree: 3, total: 4, lastAgrees: true, last: { x: 4 } });
    expect(comparisonOutcome(c)).toBe('holds');
    const above = compareSeries(pairs, 'above');
    expect(above).toMatchObject({ agree: 1, total: 4, lastAgrees: false });
    expect(comparisonOutcome(above)).toBe('does not hold');
  });

  it('does not hold when the majority agrees but the last point does not', () => {
    const c = compareSeries([...pairs.slice(1, 3), { x: 5, a: 2, b: 1 }], 'below');
    expect(c.agree).toBe(2);
    expect(comparisonOutcome(c)).toBe('does not hold');
  });

  it('does not hold at an even split, and ties count against the claim', () => {
    expect(comparisonOutcome(compareSeries([{ x: 1, a: 1, b: 2 }, { x: 2, a: 3, b: 2 }, { x: 3, a: 1, b: 2 }, { x: 4, a: 2, b: 2 }], 'below'))).toBe('does not hold');
  });

  it('has not enough data below the minimum number of points, or with none', () => {
    expect(comparisonOutcome(compareSeries([], 'below'))).toBe('not enough data');
    expect(comparisonOutcome(compareSeries(pairs.slice(0, 2), 'below'), 3)).toBe('not enough data');
  });

  it('writes the line with counts and the last values', () => {
    expect(comparisonLine('cosine', 'NLL below', 'linear', compareSeries(pairs, 'below'), 'evaluations', 'bits/dim')).toBe(
      'cosine NLL below linear at 3 of 4 evaluations (last, at step 4: 1.42 vs 1.51 bits/dim)',
    );
    expect(comparisonLine('a', 'below', 'b', compareSeries([], 'below'), 'evaluations')).toBe('a below b: no common evaluations to compare yet');
  });
});

describe('fmt and median', () => {
  it('formats to 3 significant digits, exponents for very large or small values, n/a for missing', () => {
    expect(fmt(1.23456)).toBe('1.23');
    expect(fmt(1234.5)).toBe('1230');
    expect(fmt(123456)).toBe('1.23e+5');
    expect(fmt(0.000123)).toBe('1.23e-4');
    expect(fmt(0)).toBe('0');
    expect(fmt(null)).toBe('n/a');
    expect(fmt(Number.NaN)).toBe('n/a');
  });

  it('medians odd and even lists and ignores non-finite values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([1, Number.NaN, 3])).toBe(2);
    expect(median([])).toBeNaN();
  });
});

describe('logNoise', () => {
  /** Deterministic standard normal draws (an LCG through Box–Muller), so the test never varies. */
  function normals(n: number, seed = 7): number[] {
    let state = seed;
    const u = () => ((state = (state * 1664525 + 1013904223) % 2 ** 32) + 0.5) / 2 ** 32;
    return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
  }

  it('is 0 for a smooth exponential decay', () => {
    const smooth = Array.from({ length: 200 }, (_, i) => 10 * Math.exp(-i / 50));
    expect(logNoise(smooth)).toBeCloseTo(0, 10);
  });

  it('estimates the spread σ of multiplicative noise e^(σz) on a decaying curve, whatever its level', () => {
    const z = normals(2000);
    const noisy = (sigma: number, level: number) => z.map((zi, i) => level * Math.exp(-i / 800) * Math.exp(sigma * zi));
    expect(logNoise(noisy(0.3, 10))!).toBeGreaterThan(0.25);
    expect(logNoise(noisy(0.3, 10))!).toBeLessThan(0.35);
    expect(logNoise(noisy(0.3, 1000))!).toBeCloseTo(logNoise(noisy(0.3, 10))!, 10);
    expect(logNoise(noisy(0.03, 10))!).toBeLessThan(logNoise(noisy(0.3, 10))! / 5);
  });

  it('is null with fewer values than the window, and skips non-positive values', () => {
    expect(logNoise([1, 2, 3], 21)).toBeNull();
    expect(logNoise([...Array(30).fill(1), 0, -1], 21)).toBe(0);
  });
});

describe('tailShare', () => {
  it('is the share of the sum carried by the last fraction of t', () => {
    // T = 10, all t: terms 10, 1, 1, …, 1 → sum 19; the last 20% (t = 8, 9) carry 2.
    const t = Array.from({ length: 10 }, (_, i) => i);
    const terms = t.map((i) => (i === 0 ? 10 : 1));
    expect(tailShare(t, terms, 10, 0.2)).toBeCloseTo(2 / 19, 12);
  });

  it('weights strided terms by the steps they stand for', () => {
    // T = 100 sampled at t = 0, 50 (each stands for 50 steps): (1·50)/(3·50 + 1·50) over the last half.
    expect(tailShare([0, 50], [3, 1], 100, 0.5)).toBeCloseTo(0.25, 12);
    expect(tailShare([50, 0], [1, 3], 100, 0.5)).toBeCloseTo(0.25, 12);
  });

  it('is null without terms or with a non-positive total', () => {
    expect(tailShare([], [], 10, 0.2)).toBeNull();
    expect(tailShare([0, 1], [0, 0], 2, 0.5)).toBeNull();
    expect(tailShare([0, 1], [1], 2, 0.5)).toBeNull();
  });
});

describe('firstNonUniformStep', () => {
  it('finds the first snapshot whose weights differ, in step order', () => {
    expect(
      firstNonUniformStep([
        { step: 150, weights: [0.2, 0.8] },
        { step: 50, weights: [1, 1] },
        { step: 100, weights: [0.3, 0.7] },
      ]),
    ).toBe(100);
  });

  it('is null while the weights stay equal or there are none', () => {
    expect(firstNonUniformStep([{ step: 1, weights: [1, 1, 1] }])).toBeNull();
    expect(firstNonUniformStep([])).toBeNull();
  });
});
