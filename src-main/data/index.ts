/**
 * Public API of the datasets layer. Import from here, not from the files.
 */
export {
  BatchOrder,
  asTrainingData,
  type FlatTrainingData,
  DatasetError,
  HELD_OUT_RULE,
  epochOrder,
  heldOutCount,
  pickHeldOut,
  type ImageChannels,
  type ImageDataset,
  type ImageSplit,
} from './dataset';
export { defaultFitMode, fitChannels, fitDataset, fitToSize, type FitMode } from './fit';
export { openDataset, defaultDatasetPath, type DatasetTarget, type OpenDatasetOptions } from './openDataset';
export { loadBundledMnist, MNIST_BUNDLED_COUNT } from './mnistBundled';
export { loadIdx, parseIdxImages, parseIdxLabels } from './idx';
export { loadCifar10, parseCifarBatch, CIFAR10_CLASSES } from './cifar10';
export { loadImageFolder, listImageFiles } from './imageFolder';
export { resample, resizeCropLikeReference, luminance } from './resample';
export { asLabelledData, hasLabels, classifierKey } from './labelledData';
export { folderLabels, type FolderLabels } from './folderLabels';
