/**
 * Names shared by the run configuration and the diffusion engine.
 * They mirror the reference code's enums (improved_diffusion/gaussian_diffusion.py) in lower case.
 */

/** Noise schedule of β_t (SPEC §1). */
export type ScheduleName = 'linear' | 'cosine';

/** What the network's first C output channels predict. The reference default is ε. */
export type MeanType = 'epsilon' | 'start_x';

/**
 * How p(x_{t-1}|x_t) gets its variance (SPEC §3).
 * learned_range is the paper's learned Σ (an interpolation between β_t and β̃_t).
 */
export type VarianceType = 'learned_range' | 'fixed_small' | 'fixed_large' | 'learned';

/**
 * The loss the engine computes per sample (SPEC §4), named as in the reference:
 * mse / rescaled_mse are L_simple (+ the vb term when the variance is learned: L_hybrid);
 * kl / rescaled_kl are L_vlb (rescaled multiplies by T).
 */
export type LossType = 'mse' | 'rescaled_mse' | 'kl' | 'rescaled_kl';

/** The user-facing training objective of the paper. */
export type Objective = 'simple' | 'hybrid' | 'vlb';

/** Timestep sampler for training (SPEC §5). */
export type TimestepSamplerName = 'uniform' | 'loss-second-moment';

/** True when the network outputs extra channels for the variance. */
export function isLearnedVariance(v: VarianceType): boolean {
  return v === 'learned_range' || v === 'learned';
}
