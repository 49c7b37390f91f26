/**
 * The diffusion a run configuration describes: the full process for training and NLL evaluation, and
 * respaced ones for fast sampling.
 */
import { toDiffusionKind } from '../../../src-shared/config/referenceFlags';
import type { RunConfig } from '../../../src-shared/config/runConfig';
import { createNoiseProcess, respace } from '../../../src-shared/diffusion/noiseProcess';
import type { RespacingSpec } from '../../../src-shared/diffusion/respacing';
import { createDiffusion, type Diffusion } from './diffusion';

/** The training diffusion of a run (all T steps). */
export function diffusionFromConfig(cfg: Pick<RunConfig, 'diffusion'>): Diffusion {
  const kind = toDiffusionKind(cfg);
  const process = createNoiseProcess(cfg.diffusion.noiseSchedule, cfg.diffusion.steps, kind.rescaleTimesteps);
  return createDiffusion(process, kind);
}

/**
 * The same diffusion on a subset of steps ("50", "10,15,20", "ddim25"): what fast samplers run on;
 * `skipFraction` f keeps only steps below ⌊(1−f)·T⌋ (the paper's Figure 3, see skipFraction.ts).
 */
export function respacedDiffusion(d: Diffusion, spec: RespacingSpec, skipFraction = 0): Diffusion {
  return createDiffusion(respace(d.process, spec, skipFraction), d);
}
