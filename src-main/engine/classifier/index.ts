/** The feature classifier of the sample-quality metrics: network, training, cache file, outputs. */
export { CLASSIFIER_ARCH, FEATURE_DIM, classifierParams, type ClassifierShape } from './network';
export { trainClassifier, classifierAccuracy, type ClassifierTrainOptions, type TrainedClassifier } from './trainClassifier';
export { obtainClassifier, loadClassifier, saveClassifier, type StoredClassifier } from './classifierFile';
export { classifierOutputs, type ClassifierModel, type ClassifierOutputSets } from './classifierOutputs';
export { sampleQuality, inceptionSplits, kidSubsetSize, type SampleQualityInput, type SampleQualityReport } from './sampleQuality';
