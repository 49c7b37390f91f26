/**
 * An RGB pixel canvas with the few drawing operations a chart needs: filled rectangles, anti-aliased thick line
 * segments and marker shapes (coverage from the distance of each pixel centre to the shape), and bitmap-font text,
 * upright or turned a quarter to the left (a y-axis title). Everything is clipped to the canvas, and lines and
 * markers optionally to a rectangle (the plot area).
 */
import type { PngImage } from '../imageio/png';
import { FONT_ASCENT, GLYPH_SPACING, glyphOf, textWidth } from './bitmapFont';

export type Rgb = readonly [number, number, number];

export interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** '#0072B2' or '#07b' → [0, 114, 178]. */
export function parseHexColor(hex: string): Rgb {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) throw new Error(`colour '${hex}' is not a hex colour like #0072B2`);
  const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond';

export class Raster {
  readonly pixels: Uint8Array;
  private clip: Rect;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new Error(`canvas size ${width}×${height} must be whole pixels, at least 1×1`);
    }
    this.pixels = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.pixels.set(background, i * 3);
    this.clip = this.full();
  }

  private full(): Rect {
    return { left: 0, top: 0, right: this.width, bottom: this.height };
  }

  /** Lines and markers drawn until `clearClip` stay inside `r` (pixel edges; right/bottom exclusive). */
  setClip(r: Rect): void {
    this.clip = {
      left: Math.max(0, Math.floor(r.left)),
      top: Math.max(0, Math.floor(r.top)),
      right: Math.min(this.width, Math.ceil(r.right)),
      bottom: Math.min(this.height, Math.ceil(r.bottom)),
    };
  }

  clearClip(): void {
    this.clip = this.full();
  }

  toImage(): PngImage {
    return { width: this.width, height: this.height, channels: 3, pixels: this.pixels };
  }

  /** The colour at (x, y), for tests and checks. */
  at(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 3;
    return [this.pixels[i], this.pixels[i + 1], this.pixels[i + 2]];
  }

  /** Mixes `color` into pixel (x, y) with weight `alpha` (0…1). */
  blend(x: number, y: number, color: Rgb, alpha: number): void {
    const c = this.clip;
    if (x < c.left || y < c.top || x >= c.right || y >= c.bottom || alpha <= 0) return;
    const a = Math.min(1, alpha);
    const i = (y * this.width + x) * 3;
    for (let k = 0; k < 3; k++) this.pixels[i + k] = Math.round(this.pixels[i + k] * (1 - a) + color[k] * a);
  }

  /** A filled axis-aligned rectangle, whole pixels [x0, x1) × [y0, y1). */
  fillRect(x0: number, y0: number, x1: number, y1: number, color: Rgb): void {
    for (let y = Math.round(y0); y < Math.round(y1); y++) {
      for (let x = Math.round(x0); x < Math.round(x1); x++) this.blend(x, y, color, 1);
    }
  }

  /**
   * A segment of `width` pixels with round caps, anti-aliased: each pixel gets the share of it within the line,
   * estimated from its centre's distance to the segment. Consecutive segments of a polyline overlap at the joints.
   */
  line(x0: number, y0: number, x1: number, y1: number, width: number, color: Rgb): void {
    const half = width / 2;
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    const xa = Math.floor(Math.min(x0, x1) - half - 1);
    const xb = Math.ceil(Math.max(x0, x1) + half + 1);
    const ya = Math.floor(Math.min(y0, y1) - half - 1);
    const yb = Math.ceil(Math.max(y0, y1) + half + 1);
    const c = this.clip;
    for (let y = Math.max(ya, c.top); y < Math.min(yb, c.bottom); y++) {
      for (let x = Math.max(xa, c.left); x < Math.min(xb, c.right); x++) {
        const px = x + 0.5 - x0;
        const py = y + 0.5 - y0;
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, (px * dx + py * dy) / len2));
        const d = Math.hypot(px - t * dx, py - t * dy);
        this.blend(x, y, color, half + 0.5 - d);
      }
    }
  }

  /** A filled marker of radius `r` centred on (cx, cy), anti-aliased at its edge. */
  marker(shape: MarkerShape, cx: number, cy: number, r: number, color: Rgb): void {
    const c = this.clip;
    const x0 = Math.max(c.left, Math.floor(cx - r - 1));
    const x1 = Math.min(c.right, Math.ceil(cx + r + 1));
    const y0 = Math.max(c.top, Math.floor(cy - r - 1));
    const y1 = Math.min(c.bottom, Math.ceil(cy + r + 1));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const px = x + 0.5 - cx;
        const py = y + 0.5 - cy;
        this.blend(x, y, color, 0.5 - signedDistance(shape, px, py, r));
      }
    }
  }

  /**
   * Text in the bitmap font, each font pixel a `scale`×`scale` block, its cap line at `top`. `bold` inks each
   * pixel one column wider. Returns the width drawn.
   */
  text(str: string, left: number, top: number, scale: number, color: Rgb, bold = false): number {
    let x = Math.round(left);
    const y = Math.round(top);
    for (const ch of str) {
      const g = glyphOf(ch);
      for (const [col, row] of g.pixels) {
        this.fillRect(x + col * scale, y + row * scale, x + (col + 1) * scale + (bold ? 1 : 0), y + (row + 1) * scale, color);
      }
      x += (g.width + GLYPH_SPACING) * scale + (bold ? 1 : 0);
    }
    return x - Math.round(left) - GLYPH_SPACING * scale;
  }

  /**
   * Text turned a quarter to the left (read bottom to top, as a y-axis title): it starts at `bottom` and runs
   * upwards; `left` is where the cap line falls.
   */
  textUp(str: string, left: number, bottom: number, scale: number, color: Rgb): void {
    let along = 0;
    const x0 = Math.round(left);
    const y0 = Math.round(bottom);
    for (const ch of str) {
      const g = glyphOf(ch);
      for (const [col, row] of g.pixels) {
        // Upright (col, row) → turned: x grows with row (cap line at the left), y shrinks with col.
        const x = x0 + row * scale;
        const y = y0 - (along + col + 1) * scale;
        this.fillRect(x, y, x + scale, y + scale, color);
      }
      along += g.width + GLYPH_SPACING;
    }
  }
}

/** Pixels from (px, py) to the edge of the shape (negative inside). */
function signedDistance(shape: MarkerShape, px: number, py: number, r: number): number {
  switch (shape) {
    case 'circle':
      return Math.hypot(px, py) - r;
    case 'square': {
      const s = r * 0.85;
      return Math.max(Math.abs(px), Math.abs(py)) - s;
    }
    case 'diamond':
      return (Math.abs(px) + Math.abs(py) - r * 1.2) / Math.SQRT2;
    case 'triangle': {
      // Pointing up, centred on its centroid: three half-planes.
      const s = r * 1.25;
      const d1 = py - s * 0.5; // the base
      const d2 = (Math.sqrt(3) * px - py - s) / 2; // right edge
      const d3 = (-Math.sqrt(3) * px - py - s) / 2; // left edge
      return Math.max(d1, d2, d3);
    }
  }
}

/** Height in canvas pixels of a line of caps at `scale`. */
export function capHeight(scale: number): number {
  return FONT_ASCENT * scale;
}

/** Width in canvas pixels of `str` at `scale` (`bold` adds one pixel per glyph). */
export function measureText(str: string, scale: number, bold = false): number {
  return textWidth(str) * scale + (bold ? [...str].length : 0);
}
