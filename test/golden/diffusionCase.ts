/**
 * Builds the engine objects a golden case describes (schedule name, T, variance and loss types as the
 * reference names them) and a model that returns a fixed output while recording the times it was given.
 */
import * as tf from '@tensorflow/tfjs';
import { createNoiseProcess, respace, type NoiseProcess, type ScheduleName } from '../../src-shared/diffusion';
import type { LossType, VarianceType } from '../../src-shared/diffusion/types';
import { createDiffusion, type DenoiseModel, type Diffusion } from '../../src-main/engine/diffusion/diffusion';
import type { NoiseSource } from '../../src-main/engine/rng';
import { nhwc, type GoldenTensor } from './goldenFile';

/** "cosine_1000" → the full process. */
export function processFor(name: string): NoiseProcess {
  const [schedule, steps] = name.split('_');
  return createNoiseProcess(schedule as ScheduleName, Number(steps));
}

export function respacedProcessFor(base: string, spec: string): NoiseProcess {
  return respace(processFor(base), spec);
}

/** Reference enum names (LEARNED_RANGE, RESCALED_MSE) → engine names. */
export function diffusionFor(process: NoiseProcess, varType: string, lossType = 'MSE'): Diffusion {
  return createDiffusion(process, {
    meanType: 'epsilon',
    varianceType: varType.toLowerCase() as VarianceType,
    lossType: lossType.toLowerCase() as LossType,
  });
}

/** A model that always returns `output` (NHWC, first `channels` channels) and records its time inputs. */
export function fixedModel(output: GoldenTensor, channels: number): { model: DenoiseModel; seen: number[][]; dispose: () => void } {
  const full = nhwc(output);
  const fixed = tf.tidy(() => full.slice([0, 0, 0, 0], [-1, -1, -1, channels]));
  full.dispose();
  const seen: number[][] = [];
  const model: DenoiseModel = (_x, tModel) => {
    seen.push(Array.from(tModel.dataSync()));
    return fixed.clone();
  };
  return { model, seen, dispose: () => fixed.dispose() };
}

/** A model whose output is a tensor the caller controls (for gradients with respect to it). */
export function variableModel(output: tf.Tensor4D): DenoiseModel {
  return () => output;
}

/** Every random draw returns the same tensor, as the golden harness patches randn_like. */
export function constantNoise(noise: GoldenTensor): { source: NoiseSource; calls: () => number; dispose: () => void } {
  const fixed = nhwc(noise);
  let calls = 0;
  return {
    source: () => {
      calls++;
      return fixed.clone();
    },
    calls: () => calls,
    dispose: () => fixed.dispose(),
  };
}
