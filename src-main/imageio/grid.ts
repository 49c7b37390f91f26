/** Lays out N square images (NHWC uint8) as a near-square grid with a 2-pixel gap. */
import type { PngImage } from './png';

export function imageGrid(pixels: Uint8Array, count: number, size: number, channels: 1 | 3, gap = 2): PngImage {
  const cols = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / cols);
  const width = cols * size + (cols - 1) * gap;
  const height = rows * size + (rows - 1) * gap;
  const out = new Uint8Array(width * height * channels).fill(255);
  const per = size * size * channels;
  for (let i = 0; i < count; i++) {
    const ox = (i % cols) * (size + gap);
    const oy = Math.floor(i / cols) * (size + gap);
    for (let y = 0; y < size; y++) {
      const src = i * per + y * size * channels;
      out.set(pixels.subarray(src, src + size * channels), ((oy + y) * width + ox) * channels);
    }
  }
  return { width, height, channels, pixels: out };
}

/** The i-th image of an NHWC batch. */
export function singleImage(pixels: Uint8Array, index: number, size: number, channels: 1 | 3): PngImage {
  const per = size * size * channels;
  return { width: size, height: size, channels, pixels: pixels.slice(index * per, (index + 1) * per) };
}
