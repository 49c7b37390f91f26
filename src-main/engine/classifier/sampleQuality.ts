/**
 * Sample-quality metrics of generated images against real held-out images, on a trained classifier:
 * FID, KID, precision/recall on its penultimate features; the IS analogue and the class histogram on its
 * softmax. Every report carries its caveat (src-shared/qualityMetrics.ts): these are not Inception metrics.
 */
import type { LabelledSplit } from '../../../src-shared/labelledData';
import { qualityCaveat, type QualityMetric } from '../../../src-shared/qualityMetrics';
import type { LoopControl } from '../diffusion/loopControl';
import { classHistogram, type ClassHistogram } from '../metrics/classHistogram';
import { frechetDistance } from '../metrics/fid';
import { inceptionScore, type InceptionScore } from '../metrics/inceptionScore';
import { kernelInceptionDistance, type KidResult } from '../metrics/kid';
import { precisionRecall } from '../metrics/precisionRecall';
import { classifierOutputs, type ClassifierModel } from './classifierOutputs';

export interface SampleQualityInput {
  readonly classifier: ClassifierModel & { readonly heldOutAccuracy: number };
  /** Name of the dataset the classifier was trained on, for the caveat. */
  readonly datasetName: string;
  /** Generated images, NHWC in [−1, 1], at the classifier's size and channels. */
  readonly generated: Float32Array;
  readonly generatedCount: number;
  /** The real held-out images (the first realCount are used). */
  readonly real: LabelledSplit;
  readonly realCount?: number;
  readonly metrics: readonly QualityMetric[];
  readonly seed?: number;
  readonly control?: LoopControl;
}

export interface SampleQualityReport {
  readonly generatedCount: number;
  readonly realCount: number;
  readonly fid?: number;
  readonly kid?: Pick<KidResult, 'mean' | 'std' | 'subsetSize'> & { readonly subsets: number };
  readonly precision?: number;
  readonly recall?: number;
  readonly inceptionScore?: InceptionScore;
  /** Classes of the generated images (arg-max), compared with the real images' labels. */
  readonly classHistogram?: ClassHistogram & { readonly realCounts: readonly number[] };
  readonly classifierAccuracy: number;
  readonly caveat: string;
}

/** IS splits: 10 as usual when there are ≥ 500 images, fewer (≥ 50 images each) below that. */
export function inceptionSplits(n: number): number {
  return Math.max(1, Math.min(10, Math.floor(n / 50)));
}

/** KID subset size: half the smaller set (so subsets differ), at most 1000, at least 2. */
export function kidSubsetSize(a: number, b: number): number {
  return Math.max(2, Math.min(1000, Math.floor(Math.min(a, b) / 2)));
}

export async function sampleQuality(input: SampleQualityInput): Promise<SampleQualityReport> {
  const { classifier, metrics } = input;
  const realCount = Math.min(input.realCount ?? input.real.count, input.real.count);
  if (input.generatedCount < 4 || realCount < 4) {
    throw new RangeError(
      `sample-quality metrics need at least 4 generated and 4 real images (got ${input.generatedCount} and ${realCount})`,
    );
  }
  const idx = Array.from({ length: realCount }, (_, i) => i);
  const gen = await classifierOutputs(classifier, input.generated, input.generatedCount, input.control);
  const real = await classifierOutputs(classifier, input.real.batch(idx), realCount, input.control);
  const report: {
    -readonly [K in keyof SampleQualityReport]: SampleQualityReport[K];
  } = {
    generatedCount: input.generatedCount,
    realCount,
    classifierAccuracy: classifier.heldOutAccuracy,
    caveat: qualityCaveat(input.datasetName),
  };
  if (metrics.includes('fid')) report.fid = frechetDistance(gen.features, real.features).fid;
  if (metrics.includes('kid')) {
    const subsets = 10;
    const k = kernelInceptionDistance(gen.features, real.features, {
      subsets,
      subsetSize: kidSubsetSize(input.generatedCount, realCount),
      seed: input.seed ?? 0,
    });
    report.kid = { mean: k.mean, std: k.std, subsetSize: k.subsetSize, subsets };
  }
  if (metrics.includes('pr')) {
    const pr = precisionRecall(real.features, gen.features, 3);
    report.precision = pr.precision;
    report.recall = pr.recall;
  }
  if (metrics.includes('is')) {
    report.inceptionScore = inceptionScore(gen.probabilities, inceptionSplits(input.generatedCount));
    const realCounts = new Array<number>(classifier.shape.classes).fill(0);
    for (const i of idx) realCounts[input.real.labels[i]!]! += 1;
    report.classHistogram = { ...classHistogram(gen.probabilities, realCounts), realCounts };
  }
  return report;
}
