/**
 * A noise process as the engine and the UI see it: the schedule's arrays plus, for a respaced
 * process, the map back to the original steps (SPEC §6) and the time value the network is given (SPEC §7).
 */
import { betaSchedule } from './schedule';
import { deriveProcessArrays, type ProcessArrays } from './processArrays';
import { respacedBetas, spaceTimesteps, type RespacingSpec } from './respacing';
import { skipFractionProblem, stepsAfterSkip } from './skipFraction';
import type { ScheduleName } from './types';

export interface NoiseProcess extends ProcessArrays {
  /** T of the process the network was trained on. */
  readonly originalNumSteps: number;
  /** timestepMap[t] = original step of this process's step t (identity when not respaced). */
  readonly timestepMap: readonly number[];
  /** Whether the network sees t·1000/T (`rescale_timesteps`) or the raw step. */
  readonly rescaleTimesteps: boolean;
}

/** The full process of a schedule with T steps. */
export function createNoiseProcess(
  schedule: ScheduleName,
  numSteps: number,
  rescaleTimesteps = true,
): NoiseProcess {
  return fromBetas(betaSchedule(schedule, numSteps), rescaleTimesteps);
}

/** A process on given β (e.g. imported from a reference run). */
export function fromBetas(betas: ArrayLike<number>, rescaleTimesteps = true): NoiseProcess {
  const arrays = deriveProcessArrays(betas);
  return {
    ...arrays,
    originalNumSteps: arrays.numSteps,
    timestepMap: Array.from({ length: arrays.numSteps }, (_, i) => i),
    rescaleTimesteps,
  };
}

/**
 * The respaced process keeping `spaceTimesteps(T, spec)` of a full process; with `skipFraction` f > 0,
 * `spaceTimesteps(⌊(1−f)·T⌋, spec)`: the first fraction f of the reverse process is skipped (skipFraction.ts).
 */
export function respace(base: NoiseProcess, spec: RespacingSpec, skipFraction = 0): NoiseProcess {
  if (base.numSteps !== base.originalNumSteps) {
    throw new Error('respace the full process, not an already respaced one');
  }
  const problem = skipFractionProblem(skipFraction, base.numSteps);
  if (problem) throw new Error(problem);
  const keep = spaceTimesteps(stepsAfterSkip(base.numSteps, skipFraction), spec);
  const { betas, timestepMap } = respacedBetas(base.alphasCumprod, keep);
  return {
    ...deriveProcessArrays(betas),
    originalNumSteps: base.originalNumSteps,
    timestepMap,
    rescaleTimesteps: base.rescaleTimesteps,
  };
}

/**
 * The time value the network is called with for step t of this process: the original step,
 * scaled to [0, 1000) when rescaleTimesteps is on. Rounded to float32 as the reference's tensor is.
 */
export function modelTime(process: NoiseProcess, t: number): number {
  const original = process.timestepMap[t];
  if (original === undefined) throw new Error(`step ${t} is outside [0, ${process.numSteps})`);
  if (!process.rescaleTimesteps) return original;
  // float32 step times a float32 scale, as torch multiplies a float tensor by a python float.
  return Math.fround(original * Math.fround(1000 / process.originalNumSteps));
}
