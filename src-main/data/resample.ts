/**
 * Image resizing the way the reference prepares training images, on uint8 HWC pixels.
 *
 * The reference (improved-diffusion, image_datasets.py) does, per image:
 *   while min(w, h) >= 2 * res:  img = img.resize((w // 2, h // 2), resample=Image.BOX)
 *   scale = res / min(w, h);     img = img.resize((round(w * scale), round(h * scale)), resample=Image.BICUBIC)
 *   crop_y = (h - res) // 2;  crop_x = (w - res) // 2;  take res × res from there
 * The box halving stands in for PIL's `reducing_gap` (the reference's PIL was too old to have it) and keeps
 * big downscales from aliasing; the final bicubic step is then at most a 2× reduction.
 *
 * `resample` below reproduces Pillow's 8-bit resampler (libImaging/Resample.c), not just "a bicubic":
 *  - separable, horizontal pass first, then vertical, each written back to uint8 (rounded and clipped);
 *  - the filter is stretched by the downscale factor (support × max(1, in/out)), which is what makes PIL's
 *    downscaling antialiased; upscaling uses the plain kernel;
 *  - each output pixel's weights are normalised to sum 1 over the source pixels that exist (edges are not
 *    padded; the kernel is renormalised instead), then turned into 22-bit fixed point, rounded half away
 *    from zero, and the sum starts at 0.5 in that fixed point so the final shift rounds to nearest.
 * Matching those details makes our training images equal to PIL's bit for bit for PNG input (checked
 * against Pillow 12 while writing this; the tests pin a few of those values).
 */

export type ResampleFilter = 'box' | 'bicubic';

interface Filter {
  readonly support: number;
  readonly weight: (x: number) => number;
}

/** PIL's BOX: 1 on (-0.5, 0.5], so a 2:1 reduction averages exactly the two source pixels under it. */
const BOX: Filter = {
  support: 0.5,
  weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0),
};

/** PIL's BICUBIC: Keys' cubic convolution with a = -0.5 (support 2). */
const BICUBIC: Filter = {
  support: 2,
  weight: (x) => {
    const a = -0.5;
    if (x < 0) x = -x;
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
  },
};

const FILTERS: Record<ResampleFilter, Filter> = { box: BOX, bicubic: BICUBIC };

/** Fixed-point precision of PIL's 8-bit path: 32 bits − 8 (pixel) − 2 (headroom for negative lobes). */
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;

interface Coeffs {
  /** Per output pixel: first source index and number of taps. */
  readonly bounds: Int32Array;
  /** Per output pixel: ksize fixed-point weights (unused tail is 0). */
  readonly kk: Int32Array;
  readonly ksize: number;
}

/**
 * Coefficients depend only on (inSize, outSize, filter); a dataset resizes thousands of same-sized images,
 * so they are memoised (a handful of entries, cleared when it grows past a bound).
 */
const coeffCache = new Map<string, Coeffs>();

function coeffsFor(inSize: number, outSize: number, filterName: ResampleFilter): Coeffs {
  const key = `${filterName}:${inSize}:${outSize}`;
  let c = coeffCache.get(key);
  if (!c) {
    if (coeffCache.size >= 64) coeffCache.clear();
    c = precomputeCoeffs(inSize, outSize, FILTERS[filterName]);
    coeffCache.set(key, c);
  }
  return c;
}

/** PIL's precompute_coeffs + normalize_coeffs_8bpc, for the full source range [0, inSize). */
function precomputeCoeffs(inSize: number, outSize: number, filter: Filter): Coeffs {
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; the clamps below make that equal to rounding here.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const v = filter.weight((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x]! / ww : w[x]!;
      // Round half away from zero, as PIL's (int)(±0.5 + v * 2^22) does.
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

/** PIL's clip8: the fixed-point sum back to a byte, clamped to 0..255. */
function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / ONE); // v is a non-negative integer below 2^30: same as >> PRECISION_BITS
}

/**
 * Resizes a uint8 HWC image of w×h×c to outW×outH×c with PIL's BOX or BICUBIC filter (see the file
 * comment). Returns a new array; the same size in and out returns a copy, as PIL does.
 */
export function resample(
  src: Uint8Array,
  w: number,
  h: number,
  c: number,
  outW: number,
  outH: number,
  filterName: ResampleFilter,
): Uint8Array {
  if (src.length !== w * h * c) throw new RangeError(`image holds ${src.length} bytes, expected ${w}×${h}×${c}`);
  if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW < 1 || outH < 1) {
    throw new RangeError(`cannot resize to ${outW}×${outH}`);
  }
  let cur = src;
  let vBounds: Int32Array | null = null;
  let vert: Coeffs | null = null;
  if (outH !== h) {
    vert = coeffsFor(h, outH, filterName);
    vBounds = vert.bounds.slice();
  }
  if (outW !== w) {
    // Horizontal pass over only the source rows the vertical pass will read (PIL does the same; the result
    // does not depend on it, the work does).
    let yFirst = 0;
    let yLast = h;
    if (vert && vBounds) {
      yFirst = vBounds[0]!;
      yLast = vBounds[outH * 2 - 2]! + vBounds[outH * 2 - 1]!;
      for (let i = 0; i < outH; i++) vBounds[i * 2] = vBounds[i * 2]! - yFirst;
    }
    const rows = yLast - yFirst;
    const { bounds, kk, ksize } = coeffsFor(w, outW, filterName);
    const tmp = new Uint8Array(outW * rows * c);
    for (let y = 0; y < rows; y++) {
      const rowIn = (y + yFirst) * w * c;
      const rowOut = y * outW * c;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2]!;
        const xmax = bounds[xx * 2 + 1]!;
        const k0 = xx * ksize;
        for (let ch = 0; ch < c; ch++) {
          let ss = ONE / 2;
          let p = rowIn + xmin * c + ch;
          for (let x = 0; x < xmax; x++, p += c) ss += cur[p]! * kk[k0 + x]!;
          tmp[rowOut + xx * c + ch] = clip8(ss);
        }
      }
    }
    cur = tmp;
  }
  if (vert && vBounds) {
    const { kk, ksize } = vert;
    const rowLen = outW * c;
    const out = new Uint8Array(outH * rowLen);
    for (let yy = 0; yy < outH; yy++) {
      const ymin = vBounds[yy * 2]!;
      const ymax = vBounds[yy * 2 + 1]!;
      const k0 = yy * ksize;
      for (let i = 0; i < rowLen; i++) {
        let ss = ONE / 2;
        let p = ymin * rowLen + i;
        for (let y = 0; y < ymax; y++, p += rowLen) ss += cur[p]! * kk[k0 + y]!;
        out[yy * rowLen + i] = clip8(ss);
      }
    }
    return out;
  }
  return cur === src ? src.slice() : cur;
}

/** Python's round(): half to even (the reference sizes with it: round(x * scale)). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The reference's center_crop_arr sizing: box-halve while the short side is at least twice `target`, then
 * bicubic so the short side is `target`, then centre-crop target × target. `src` is uint8 HWC (w×h×c).
 */
export function resizeCropLikeReference(
  src: Uint8Array,
  w: number,
  h: number,
  c: number,
  target: number,
): Uint8Array {
  if (!Number.isInteger(target) || target < 1) throw new RangeError(`target size ${target} is not a positive whole number`);
  let img = src;
  while (Math.min(w, h) >= 2 * target) {
    const nw = Math.floor(w / 2);
    const nh = Math.floor(h / 2);
    img = resample(img, w, h, c, nw, nh, 'box');
    w = nw;
    h = nh;
  }
  const scale = target / Math.min(w, h);
  const nw = roundHalfEven(w * scale);
  const nh = roundHalfEven(h * scale);
  if (nw !== w || nh !== h) {
    img = resample(img, w, h, c, nw, nh, 'bicubic');
    w = nw;
    h = nh;
  }
  if (w === target && h === target) return img === src ? src.slice() : img;
  const cropY = Math.floor((h - target) / 2);
  const cropX = Math.floor((w - target) / 2);
  const out = new Uint8Array(target * target * c);
  const rowLen = target * c;
  for (let y = 0; y < target; y++) {
    const from = ((y + cropY) * w + cropX) * c;
    out.set(img.subarray(from, from + rowLen), y * rowLen);
  }
  return out;
}

/**
 * PIL's RGB → L: ITU-R 601-2 luma, L = R·299/1000 + G·587/1000 + B·114/1000, computed as PIL does in 16-bit
 * fixed point ((R·19595 + G·38470 + B·7471 + 0x8000) >> 16; the weights sum to 65536, so grey stays grey).
 */
export function luminance(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/** Interleaved RGB (3 channels) → one luminance channel. */
export function rgbToLuminance(rgb: Uint8Array): Uint8Array {
  const n = rgb.length / 3;
  const out = new Uint8Array(n);
  for (let i = 0, p = 0; i < n; i++, p += 3) out[i] = luminance(rgb[p]!, rgb[p + 1]!, rgb[p + 2]!);
  return out;
}

/** One channel → RGB by repetition. */
export function grayToRgb(gray: Uint8Array): Uint8Array {
  const out = new Uint8Array(gray.length * 3);
  for (let i = 0, p = 0; i < gray.length; i++, p += 3) {
    const v = gray[i]!;
    out[p] = v;
    out[p + 1] = v;
    out[p + 2] = v;
  }
  return out;
}
