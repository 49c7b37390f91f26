/**
 * The studio's checkpoint file: a safetensors file (safetensors.ts) whose tensors carry the reference's
 * parameter names under prefixes, and whose string metadata says what the file is. Written by the engine
 * after training steps (engine/checkpoint/trainCheckpoint.ts) and by the interop layer when it converts a
 * reference run's .pt files (interop/studioCheckpoint.ts); both follow this one description.
 *
 * Tensors (reference layouts, float32): `model.<name>`, `ema.<rate>.<name>`, `optimizer.exp_avg.<name>`,
 * `optimizer.exp_avg_sq.<name>`; optionally `sampler.loss_history` (F64 [T, k]) and `sampler.loss_counts` (I32 [T]).
 */
export const CHECKPOINT_FORMAT = 'iddpm-studio-checkpoint';
export const CHECKPOINT_VERSION = '1';

/** Prefixes of the tensor names. */
export const CHECKPOINT_PREFIX = {
  model: 'model.',
  ema: (rate: number) => `ema.${rate}.`,
  expAvg: 'optimizer.exp_avg.',
  expAvgSq: 'optimizer.exp_avg_sq.',
} as const;

/** The metadata keys; every value is a string, JSON where noted. */
export interface CheckpointMetadata {
  format: typeof CHECKPOINT_FORMAT;
  format_version: string;
  /** Optimisation steps done. */
  step: string;
  /** JSON RunConfig. */
  config: string;
  /** JSON number[]. */
  ema_rates: string;
  /** JSON { name: 'AdamW', step }. */
  optimizer: string;
  /** Timestep sampler name. */
  sampler: string;
  /** JSON { train, dropout }: generator states, or plain seeds for a run that starts its generators here. */
  rng: string;
  /** JSON gradient-noise-scale EMA state. */
  gns: string;
  /** JSON { total, consecutive } non-finite loss counts. */
  nan: string;
}
