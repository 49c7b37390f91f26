/**
 * The sample-quality metrics a user can ask for (`iddpm eval --metrics fid,kid,pr,is`, the Evaluate view),
 * and the sentence every result carries: they are measured on the studio's own classifier, not on the
 * Inception network of the papers.
 */
export const QUALITY_METRICS = ['fid', 'kid', 'pr', 'is'] as const;
export type QualityMetric = (typeof QUALITY_METRICS)[number];

export const QUALITY_METRIC_NAMES: Record<QualityMetric, string> = {
  fid: 'FID (Fréchet distance of classifier features)',
  kid: 'KID (unbiased MMD², cubic kernel), mean ± std over subsets',
  pr: 'precision and recall (Kynkäänniemi et al. 2019, k = 3)',
  is: 'Inception-Score analogue and class histogram',
};

/** The honest label of every number: what it was measured on and what it cannot be compared with. */
export function qualityCaveat(datasetName: string): string {
  return `measured on the studio's ${datasetName} classifier features, not Inception features: not Inception FID/IS, not comparable with published values`;
}

/** Parses "fid,kid,pr,is" (any order, spaces allowed, "all" = every metric); errors name the bad entry. */
export function parseQualityMetrics(text: string): QualityMetric[] {
  const parts = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (parts.length === 0) throw new RangeError(`--metrics is empty: give a comma-separated list of ${QUALITY_METRICS.join(', ')}`);
  if (parts.includes('all')) return [...QUALITY_METRICS];
  const out: QualityMetric[] = [];
  for (const p of parts) {
    if (!(QUALITY_METRICS as readonly string[]).includes(p)) {
      throw new RangeError(`--metrics: '${p}' is not a metric; use a comma-separated list of ${QUALITY_METRICS.join(', ')} (or all)`);
    }
    if (!out.includes(p as QualityMetric)) out.push(p as QualityMetric);
  }
  return out;
}
