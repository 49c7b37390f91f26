/**
 * Per-t loss buckets as the reference logs them (`loss_q0`…`loss_q3`): sample i falls in quartile
 * ⌊4·t_i/T⌋ and each bucket reports the mean of its samples' values, or null when it got none.
 */
export type Quartiles = [number | null, number | null, number | null, number | null];

export function quartileMeans(t: readonly number[], values: ArrayLike<number>, numSteps: number): Quartiles {
  const sums = [0, 0, 0, 0];
  const counts = [0, 0, 0, 0];
  t.forEach((s, i) => {
    const q = Math.min(3, Math.floor((4 * s) / numSteps));
    sums[q] += values[i];
    counts[q] += 1;
  });
  return sums.map((s, q) => (counts[q] ? s / counts[q] : null)) as Quartiles;
}
