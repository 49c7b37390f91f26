/**
 * What the feature classifier (sample-quality metrics) needs from a dataset: images with class labels,
 * split into training and held-out images. The data layer adapts its datasets to this shape and the
 * engine's classifier trainer consumes it; it lives here because neither layer may import the other.
 */
export interface LabelledSplit {
  readonly count: number;
  /** Class index of each image, 0..classes−1. */
  readonly labels: ArrayLike<number>;
  /** Images at these indices as NHWC float32 in [−1, 1]. */
  batch(indices: readonly number[]): Float32Array;
}

export interface LabelledData {
  readonly size: number;
  readonly channels: number;
  /** Number of classes; labels run 0..classes−1. */
  readonly classes: number;
  /** Class names by index, where the source has them. */
  readonly classNames?: readonly string[];
  readonly train: LabelledSplit;
  readonly heldOut: LabelledSplit;
}

/** The message shown wherever sample-quality metrics are asked of a dataset without class labels. */
export const NO_LABELS_MESSAGE = 'no labels: NLL only';
