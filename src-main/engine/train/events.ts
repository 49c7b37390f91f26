/**
 * What a training run reports, as typed events. The trainer persists nothing: the worker stores these,
 * the CLI prints them, tests read them.
 */
import type { Quartiles } from './lossQuartiles';

export interface StepEvent {
  type: 'step';
  step: number;
  /** The optimised loss: mean over the batch of the per-sample loss times its importance weight. */
  loss: number;
  mse: number;
  /** vb term as it enters the loss (absent for L_simple). */
  vb: number | null;
  /** ⌊4t/T⌋ buckets of the weighted per-sample terms, as the reference logs loss_q0…q3. */
  quartiles: { loss: Quartiles; mse: Quartiles; vb: Quartiles | null };
  gradNorm: number;
  lr: number;
  samplesPerSec: number;
  stepMs: number;
  /** Sampling weights over t (normalised), included every `samplerWeightsEvery` steps. */
  samplerWeights?: number[];
}

export interface NanSkipEvent {
  type: 'nanSkipped';
  step: number;
  /** Non-finite steps skipped so far, and in a row. */
  total: number;
  consecutive: number;
}

export interface GnsEvent {
  type: 'gns';
  step: number;
  bSimple: number;
  bSimpleRaw: number;
  gradSq: number;
  traceSigma: number;
  bSmall: number;
  bBig: number;
}

export interface VlbTermsEvent {
  type: 'vlbTerms';
  step: number;
  /** Steps evaluated (ascending) and the mean vb term in bits/dim at each. */
  timesteps: number[];
  termsBpd: number[];
  /** mean_flat((ε̂−ε)²) at each step. */
  mse: number[];
  priorBpd: number;
  /** Σ terms + prior: the NLL bound in bits/dim when every step was evaluated, else null. */
  totalBpd: number | null;
  weights: 'ema' | 'raw';
  emaRate: number | null;
  images: number;
}

export interface PreviewEvent {
  type: 'preview';
  step: number;
  /** uint8 images, NHWC, count × size × size × channels. */
  pixels: Uint8Array;
  count: number;
  size: number;
  channels: number;
  samplingSteps: number;
  emaRate: number | null;
  /** Which weights drew it and why (e.g. raw while the EMA still holds most of the initial weights). */
  weightsWhy: string;
  seed: number;
}

export type TrainEvent = StepEvent | NanSkipEvent | GnsEvent | VlbTermsEvent | PreviewEvent;
export type TrainEventHandler = (event: TrainEvent) => void;
