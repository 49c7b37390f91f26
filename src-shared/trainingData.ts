/**
 * What the trainer needs from a dataset. The data layer adapts its loaders to this shape (asTrainingData)
 * and the engine's trainer consumes it; it lives here because neither layer may import the other.
 */
export interface TrainingData {
  readonly size: number;
  readonly channels: number;
  readonly trainCount: number;
  readonly heldOutCount: number;
  /** Images at these indices as NHWC float32 in [−1, 1]. */
  trainBatch(indices: readonly number[]): Float32Array;
  heldOutBatch(indices: readonly number[]): Float32Array;
}

