import { describe, expect, it } from 'vitest';
import { parseQualityMetrics, qualityCaveat } from '../../src-shared/qualityMetrics';

describe('--metrics list', () => {
  it('parses any order, spaces, case and duplicates; "all" means every metric', () => {
    expect(parseQualityMetrics('fid,kid,pr,is')).toEqual(['fid', 'kid', 'pr', 'is']);
    expect(parseQualityMetrics(' IS , fid,fid')).toEqual(['is', 'fid']);
    expect(parseQualityMetrics('all')).toEqual(['fid', 'kid', 'pr', 'is']);
  });

  it('refuses unknown or empty entries, naming them and the choices', () => {
    expect(() => parseQualityMetrics('fid,inception')).toThrow("--metrics: 'inception' is not a metric; use a comma-separated list of fid, kid, pr, is (or all)");
    expect(() => parseQualityMetrics(' , ')).toThrow(/--metrics is empty/);
  });

  it('the caveat names the dataset and says what the numbers are not', () => {
    expect(qualityCaveat('CIFAR-10')).toBe(
      "measured on the studio's CIFAR-10 classifier features, not Inception features: not Inception FID/IS, not comparable with published values",
    );
  });
});
