/**
 * Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013).
 *
 * Why our own: Chart.js ships an LTTB decimation plugin, but it only runs with `parsing: false` on
 * the full dataset held by the chart, and re-runs on every update. We decimate once per frame in the
 * wrapper, to the canvas's pixel width, so the chart only ever holds ~width points however long a
 * run gets. Works on parallel x/y arrays (what the store's Series carry) without building objects.
 */

export interface XY {
  x: number[];
  y: number[];
}

/**
 * Indices of the points LTTB keeps. Always keeps the first and last point and returns at most
 * `threshold` indices (all indices when n ≤ threshold or threshold < 3), in increasing order.
 * Non-finite y values are skipped for the area test but never kept as a bucket's pick unless the
 * whole bucket is non-finite (then its first point is kept, so gaps stay visible).
 */
export function lttbIndices(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): number[] {
  const n = Math.min(xs.length, ys.length);
  const out: number[] = [];
  if (n === 0 || threshold <= 0) return out;
  if (threshold >= n || threshold < 3) {
    // Nothing to gain (or a threshold too small to mean anything): keep everything up to the cap.
    if (threshold < 3 && threshold < n) {
      out.push(0);
      if (threshold >= 2 && n > 1) out.push(n - 1);
      return out;
    }
    for (let i = 0; i < n; i++) out.push(i);
    return out;
  }

  // Buckets cover points 1 … n-2; the first and last point are their own buckets.
  const every = (n - 2) / (threshold - 2);
  let a = 0; // index of the point kept in the previous bucket
  out.push(0);
  for (let i = 0; i < threshold - 2; i++) {
    // Average of the NEXT bucket (the third vertex of the triangle).
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    let cnt = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      const y = ys[j];
      if (!Number.isFinite(y)) continue;
      avgX += xs[j];
      avgY += y;
      cnt++;
    }
    if (cnt > 0) {
      avgX /= cnt;
      avgY /= cnt;
    } else {
      avgX = xs[Math.min(nextStart, n - 1)];
      avgY = ys[a];
    }

    // The point of THIS bucket that makes the largest triangle with the previous pick and that average.
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const ax = xs[a];
    const ay = ys[a];
    let maxArea = -1;
    let pick = start;
    for (let j = start; j < end; j++) {
      const y = ys[j];
      if (!Number.isFinite(y)) continue;
      const area = Math.abs((ax - avgX) * (y - ay) - (ax - xs[j]) * (avgY - ay));
      if (area > maxArea) {
        maxArea = area;
        pick = j;
      }
    }
    out.push(pick);
    a = pick;
  }
  out.push(n - 1);
  return out;
}

/** LTTB as arrays: the kept x and y values. */
export function lttb(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): XY {
  const idx = lttbIndices(xs, ys, threshold);
  const x = new Array<number>(idx.length);
  const y = new Array<number>(idx.length);
  for (let k = 0; k < idx.length; k++) {
    x[k] = xs[idx[k]];
    y[k] = ys[idx[k]];
  }
  return { x, y };
}
