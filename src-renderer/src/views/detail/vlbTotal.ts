/**
 * The NLL bound of a VLB snapshot when it measured only some of the T terms (a T = 1000 run measures a spread of t
 * during training, so the snapshot's exact total is null): L_prior + Σ_{t<T} L_t with the missing L_t read off a
 * straight line between the measured neighbours (flat beyond the first and last measured t).
 */
export interface VlbTotal {
  bpd: number;
  /** True when every term was measured (the exact sum), false for the interpolated estimate. */
  exact: boolean;
  measured: number;
}

export function vlbTotal(timesteps: ArrayLike<number>, termsBpd: ArrayLike<number>, priorBpd: number, T: number): VlbTotal | null {
  const pts: [number, number][] = [];
  for (let i = 0; i < timesteps.length; i++) {
    const t = timesteps[i];
    const v = termsBpd[i];
    if (Number.isInteger(t) && t >= 0 && t < T && Number.isFinite(v)) pts.push([t, v]);
  }
  if (pts.length === 0 || !Number.isFinite(priorBpd) || !(T >= 1)) return null;
  pts.sort((a, b) => a[0] - b[0]);
  const first = pts[0];
  const last = pts[pts.length - 1];
  let sum = 0;
  let k = 0;
  for (let t = 0; t < T; t++) {
    if (t <= first[0]) sum += first[1];
    else if (t >= last[0]) sum += last[1];
    else {
      while (pts[k + 1][0] <= t) k++;
      const [t0, v0] = pts[k];
      const [t1, v1] = pts[k + 1];
      sum += t1 === t0 ? v0 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
    }
  }
  const distinct = new Set(pts.map((p) => p[0])).size;
  return { bpd: sum + priorBpd, exact: distinct === T, measured: distinct };
}
