/**
 * Scalar float32 functions computed exactly as the reference's PyTorch CPU kernels compute them.
 *
 * PyTorch vectorises exp with SLEEF's expf (1-ulp accurate, not correctly rounded). Where a result is
 * multiplied by a large number afterwards, one ulp matters: the timestep embedding's frequencies are
 * multiplied by t ≈ 1000 and then go through cos/sin, so a frequency one ulp off moves the embedding by
 * ~1e-5 and the UNet output by ~1e-4. Reproducing SLEEF's steps (Cody–Waite reduction by ln 2, a degree-6
 * polynomial evaluated with fused multiply-adds, then 2^q scaling) gives the same bits.
 */

const f = Math.fround;

/** float32 fused multiply-add: a·b is exact in float64 for float32 inputs, so one rounding remains. */
function fma(a: number, b: number, c: number): number {
  return f(a * b + c);
}

/** Round half to even, as the vector rint instruction does. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

const R_LN2 = f(1.442695040888963407359924681001892137426645954152985934135449406931);
const L2U = f(-0.693145751953125);
const L2L = f(-1.428606765330187045e-6);
const P = [
  f(0.000198527617612853646278381),
  f(0.00139304355252534151077271),
  f(0.00833336077630519866943359),
  f(0.0416664853692054748535156),
  f(0.166666671633720397949219),
  f(0.5),
];

/** exp(x) for a float32 x, bit-for-bit as SLEEF's expf (xexpf). */
export function sleefExpf(x: number): number {
  const d = f(x);
  if (d < -104) return 0;
  if (d > 100) return Infinity;
  const q = rint(f(d * R_LN2));
  let s = fma(q, L2U, d);
  s = fma(q, L2L, s);
  let u = P[0];
  for (let i = 1; i < P.length; i++) u = fma(u, s, P[i]);
  u = f(1 + fma(f(s * s), u, s));
  return f(u * 2 ** q);
}
