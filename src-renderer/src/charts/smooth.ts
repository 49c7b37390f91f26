/**
 * Exponential moving average smoothing with TensorBoard's debiasing: the first points are not pulled
 * towards zero. weight 0 returns the values unchanged; non-finite values pass through without
 * disturbing the average.
 */
export function smoothEma(values: ArrayLike<number>, weight: number): number[] {
  const out = new Array<number>(values.length);
  if (weight <= 0) {
    for (let i = 0; i < values.length; i++) out[i] = values[i];
    return out;
  }
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out[i] = last / (1 - weight ** n);
  }
  return out;
}
