/** Sample-quality metrics on feature vectors and class probabilities (pure float64; no tfjs). */
export { featuresFromRows, meanAndCovariance, selectRows, type FeatureSet } from './features';
export { symmetricEigen, symmetricSqrt } from './symmetricEigen';
export { frechetDistance, traceSqrtProduct, FID_EPS, type FidResult } from './fid';
export { kernelInceptionDistance, kidOnSubsets, mmd2Unbiased, type KidOptions, type KidResult } from './kid';
export { precisionRecall, kthNeighbourRadii2, type PrecisionRecall } from './precisionRecall';
export { inceptionScore, type InceptionScore, type ProbabilitySet } from './inceptionScore';
export { classHistogram, predictedClasses, type ClassHistogram } from './classHistogram';
