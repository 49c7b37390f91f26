import { describe, it, expect } from 'vitest';
import {
  luminance,
  resample,
  resizeCropLikeReference,
  roundHalfEven,
} from '../../src-main/data/resample';
import { texture } from './helpers';

function checksum(b: Uint8Array): [number, number] {
  let s = 0;
  let w = 0;
  for (let i = 0; i < b.length; i++) {
    s += b[i]!;
    w += i * b[i]!;
  }
  return [s, w];
}

describe('resample (Pillow-compatible BOX and BICUBIC)', () => {
  // Expected values were produced by Pillow 12.3 on the same `texture` input:
  //   Image.frombytes(mode, (w, h), texture).resize((W, H), Image.BICUBIC / Image.BOX).tobytes()
  it('matches Pillow BICUBIC on a 7×5 grey image resized to 3×4', () => {
    const out = resample(texture(7, 5, 1), 7, 5, 1, 3, 4, 'bicubic');
    expect(Array.from(out)).toEqual([45, 123, 170, 161, 143, 98, 118, 136, 149, 107, 108, 130]);
  });

  it('matches Pillow BOX on a 9×6 RGB image resized to 4×3', () => {
    const out = resample(texture(9, 6, 3), 9, 6, 3, 4, 3, 'box');
    expect(Array.from(out)).toEqual([
      67, 120, 173, 131, 141, 151, 152, 141, 130, 109, 98, 87, 132, 121, 110, 123, 133, 101, 152, 77, 130, 106, 159,
      212, 133, 186, 111, 126, 136, 147, 123, 112, 101, 138, 63, 116,
    ]);
  });

  it('BOX halving averages 2×2 blocks, rounding after each pass as Pillow does', () => {
    // Rows first: (10+20)/2 = 15, (0+255)/2 = 127.5 → 128; (30+41)/2 = 35.5 → 36, 255.
    // Then columns: (15+36)/2 = 25.5 → 26 and (128+255)/2 = 191.5 → 192 (Pillow gives [26, 192] too;
    // one-pass averaging would give 25 and 191).
    const src = Uint8Array.from([10, 20, 0, 255, 30, 41, 255, 255]); // 4×2 grey
    expect(Array.from(resample(src, 4, 2, 1, 2, 1, 'box'))).toEqual([26, 192]);
  });

  it('keeps a constant image constant, up and down', () => {
    const src = new Uint8Array(13 * 9 * 3).fill(77);
    for (const [w, h] of [
      [5, 4],
      [26, 20],
      [13, 3],
      [1, 1],
    ] as const) {
      const out = resample(src, 13, 9, 3, w, h, 'bicubic');
      expect(out.length).toBe(w * h * 3);
      expect(out.every((v) => v === 77)).toBe(true);
    }
  });

  it('keeps a horizontal linear ramp monotone and mirror-symmetric', () => {
    const w = 40;
    const h = 3;
    const src = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) src[y * w + x] = Math.round((x * 255) / (w - 1));
    for (const outW of [16, 25, 64]) {
      const out = resample(src, w, h, 1, outW, h, 'bicubic');
      for (let y = 0; y < h; y++) {
        const row = Array.from(out.subarray(y * outW, (y + 1) * outW));
        for (let x = 1; x < outW; x++) expect(row[x]!).toBeGreaterThanOrEqual(row[x - 1]!);
        for (let x = 0; x < outW; x++) expect(Math.abs(row[x]! + row[outW - 1 - x]! - 255)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('same size in and out is a copy', () => {
    const src = texture(4, 4, 1);
    const out = resample(src, 4, 4, 1, 4, 4, 'bicubic');
    expect(out).not.toBe(src);
    expect(Array.from(out)).toEqual(Array.from(src));
  });
});

describe('resizeCropLikeReference (image_datasets.py center crop)', () => {
  // [w, h, channels, target, sum, index-weighted sum, pixel(0,0), pixel(t/2, t/3), pixel(t-1, t-1)] from
  // Pillow 12.3 running the reference's loop (BOX halving, BICUBIC to the short side, centre crop).
  const cases: [number, number, number, number, number, number, number[], number[], number[]][] = [
    [64, 48, 3, 32, 392773, 602201493, [83, 80, 94], [51, 85, 158], [150, 198, 76]],
    [200, 130, 1, 32, 132048, 67670048, [111], [125], [120]],
    [28, 28, 1, 16, 32835, 4177900, [63], [102], [100]],
    [28, 28, 1, 32, 131328, 67039094, [0], [122], [32]],
    [5, 9, 3, 8, 24389, 2333811, [173, 242, 58], [186, 161, 10], [25, 69, 138]],
  ];
  it.each(cases)('%i×%i×%i → %i matches Pillow', (w, h, c, t, sum, wsum, p0, p1, p2) => {
    const out = resizeCropLikeReference(texture(w, h, c), w, h, c, t);
    expect(out.length).toBe(t * t * c);
    expect(checksum(out)).toEqual([sum, wsum]);
    const px = (x: number, y: number) => Array.from(out.subarray((y * t + x) * c, (y * t + x) * c + c));
    expect(px(0, 0)).toEqual(p0);
    expect(px(Math.floor(t / 2), Math.floor(t / 3))).toEqual(p1);
    expect(px(t - 1, t - 1)).toEqual(p2);
  });

  it('a 64×48 image becomes 43×32 then the centre 32 columns (crop_x = 5)', () => {
    // Columns are coloured by position so the crop offset shows: red grows with x, blue marks the rows.
    const w = 64;
    const h = 48;
    const src = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        src.set([x * 4, 100, y * 5], (y * w + x) * 3);
      }
    }
    const out = resizeCropLikeReference(src, w, h, 3, 32);
    const resized = resample(src, w, h, 3, 43, 32, 'bicubic');
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const o = (y * 32 + x) * 3;
        const r = (y * 43 + x + 5) * 3;
        expect([out[o], out[o + 1], out[o + 2]]).toEqual([resized[r], resized[r + 1], resized[r + 2]]);
      }
    }
    // Independently of our resampler: the centre column maps back to source x ≈ 31.5 (red ≈ 126).
    const mid = out[(16 * 32 + 16) * 3]!;
    expect(Math.abs(mid - 4 * ((16 + 5 + 0.5) * (64 / 43) - 0.5))).toBeLessThanOrEqual(2);
    expect(out[(16 * 32 + 16) * 3 + 1]).toBe(100);
  });

  it('sizes with Python round (half to even)', () => {
    expect(roundHalfEven(42.5)).toBe(42);
    expect(roundHalfEven(43.5)).toBe(44);
    expect(roundHalfEven(42.4999)).toBe(42);
    expect(roundHalfEven(42.6)).toBe(43);
    // 34×17 → 16: no halving (17 < 32), scale = 16/17, width round(32.0) = 32; 33×17 → round(31.06) = 31.
    expect(resizeCropLikeReference(texture(33, 17, 1), 33, 17, 1, 16).length).toBe(256);
  });
});

describe('luminance', () => {
  it('is PIL convert("L"): ITU-R 601-2 in 16-bit fixed point', () => {
    expect(luminance(0, 0, 0)).toBe(0);
    expect(luminance(255, 255, 255)).toBe(255);
    expect(luminance(255, 0, 0)).toBe(76);
    expect(luminance(0, 255, 0)).toBe(150);
    expect(luminance(0, 0, 255)).toBe(29);
    expect(luminance(100, 150, 200)).toBe(141); // 29.9 + 88.05 + 22.8 = 140.75
    for (let v = 0; v < 256; v += 17) expect(luminance(v, v, v)).toBe(v);
  });
});
