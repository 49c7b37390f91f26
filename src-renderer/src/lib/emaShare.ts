/**
 * How much of the random initial weights each EMA of a checkpoint still holds, as the weights picker and the run
 * page's checkpoints table both show it (a young EMA that is mostly initial weights samples noise).
 */
import { formatShare } from '../../../src-shared/emaWeights';
import type { CheckpointInfo } from '../../../src-shared/protocol';

type Shares = Pick<CheckpointInfo, 'emaRates' | 'emaInitialShares'>;

/** "37%": the share of initial weights in the EMA `rate` of `c`, or null when unknown (no such EMA, older server). */
export function emaInitialShareText(c: Shares, rate: number): string | null {
  const i = c.emaRates.indexOf(rate);
  const share = i >= 0 ? c.emaInitialShares?.[i] : undefined;
  return share === undefined ? null : formatShare(share);
}

/** "0.995 (37% initial weights), 0.9999 (99% initial weights)": every EMA of `c` with its share; "none" without EMA. */
export function emaRatesWithShares(c: Shares): string {
  if (c.emaRates.length === 0) return 'none';
  return c.emaRates
    .map((rate) => {
      const share = emaInitialShareText(c, rate);
      return share === null ? String(rate) : `${rate} (${share} initial weights)`;
    })
    .join(', ');
}
