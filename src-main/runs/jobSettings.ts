/**
 * Checks of sampling and evaluation requests against what the run's model can do, before a job is stored:
 * a value the job could not honour is refused with the field and its bound, never clamped behind the
 * user's back (a job that keeps `steps: 1e12` while sampling 50 says something false about its images).
 */
import { SIZE_LIMITS } from '../../src-shared/config/limits';
import type { RunConfig } from '../../src-shared/config/runConfig';
import type * as P from '../../src-shared/protocol';
import { skipFractionProblem, stepsAfterSkip } from '../../src-shared/diffusion/skipFraction';
import { spaceTimesteps } from '../../src-shared/diffusion/respacing';
import { QUALITY_METRICS } from '../../src-shared/qualityMetrics';
import { ApiFailure } from './apiFailure';

function bad(field: string, message: string): never {
  throw new ApiFailure('bad-request', message, { field });
}

function wholeNumber(field: string, v: unknown, min: number, max: number, why: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(field, `${field} must be a whole number ≥ ${min}, got ${JSON.stringify(v) ?? 'nothing'}`);
  if (v > max) bad(field, `${field} ${v} is more than ${max}, ${why}: use at most ${max}`);
}

export function checkSampleSettings(s: P.SampleSettings, config: RunConfig): void {
  const T = config.diffusion.steps;
  wholeNumber('steps', s.steps, 1, T, `the model's diffusion steps T (sampling keeps a subset of them)`);
  checkSkip(s.skipFraction, s.steps, T);
  wholeNumber('count', s.count, 1, SIZE_LIMITS.sampleCount, 'the most images one sampling job draws');
  wholeNumber('seed', s.seed, 0, Number.MAX_SAFE_INTEGER, 'the largest seed');
  if (s.sampler !== 'ancestral' && s.sampler !== 'ddim') bad('sampler', "sampler must be 'ancestral' or 'ddim'");
  // η is optional (0 when absent, deterministic DDIM) and only used by DDIM.
  if (s.eta !== undefined && !(typeof s.eta === 'number' && s.eta >= 0 && Number.isFinite(s.eta))) {
    bad('eta', `eta must be a number ≥ 0 (0: deterministic DDIM; 1: as noisy as ancestral sampling), got ${JSON.stringify(s.eta)}`);
  }
}

export function checkEvaluationSettings(s: P.EvaluationSettings): void {
  wholeNumber('images', s.images, 1, SIZE_LIMITS.evalImages, 'the most held-out images one evaluation reads');
}

/** skipFraction in [0, 1), and K no more than the steps it leaves. */
function checkSkip(skipFraction: number | undefined, steps: number, T: number): void {
  if (skipFraction === undefined) return;
  const problem = skipFractionProblem(skipFraction, T);
  if (problem) bad('skipFraction', problem);
  const left = stepsAfterSkip(T, skipFraction);
  if (steps > left) bad('steps', `steps ${steps} is more than the ${left} steps left after skipFraction ${skipFraction} (⌊(1−f)·T⌋, T = ${T}): use at most ${left}`);
}

/** The fields of a quality job and a quality sweep share. */
export function checkQualityCommon(s: Omit<P.QualitySettings, 'steps' | 'sampler'>): void {
  if (!Array.isArray(s.metrics) || s.metrics.length === 0) bad('metrics', `metrics must list at least one of ${QUALITY_METRICS.join(', ')}`);
  for (const m of s.metrics) {
    if (!(QUALITY_METRICS as readonly string[]).includes(m)) bad('metrics', `metrics: '${m}' is not a metric; use ${QUALITY_METRICS.join(', ')}`);
  }
  wholeNumber('count', s.count, 4, SIZE_LIMITS.sampleCount, 'the most images one sampling job draws');
  if (s.seed !== undefined) wholeNumber('seed', s.seed, 0, Number.MAX_SAFE_INTEGER, 'the largest seed');
  if (s.realCount !== undefined) wholeNumber('realCount', s.realCount, 4, SIZE_LIMITS.evalImages, 'the most held-out images one evaluation reads');
}

/** A quality job's settings against the run's model (T, DDIM strides, skipFraction). */
export function checkQualitySettings(s: P.QualitySettings, config: RunConfig): void {
  checkQualityCommon(s);
  const T = config.diffusion.steps;
  wholeNumber('steps', s.steps, 1, T, `the model's diffusion steps T (sampling keeps a subset of them)`);
  if (s.sampler !== 'ancestral' && s.sampler !== 'ddim') bad('sampler', "sampler must be 'ancestral' or 'ddim'");
  if (s.eta !== undefined && !(typeof s.eta === 'number' && s.eta >= 0 && Number.isFinite(s.eta))) {
    bad('eta', `eta must be a number ≥ 0 (0: deterministic DDIM), got ${JSON.stringify(s.eta)}`);
  }
  checkSkip(s.skipFraction, s.steps, T);
  if (s.sampler === 'ddim') {
    const left = stepsAfterSkip(T, s.skipFraction ?? 0);
    try {
      spaceTimesteps(left, `ddim${s.steps}`);
    } catch {
      bad('steps', `DDIM cannot take exactly ${s.steps} of ${left} steps with an even stride: choose a step count that divides ${left}`);
    }
  }
}
