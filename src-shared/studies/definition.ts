/**
 * What a built-in study is: the claims of the paper it tests, its runs (each a config patch over the size's
 * base config, differing from the others in one setting), and per size the base config, the steps, and what
 * the report evaluates after training. Plain data, shared by the service (which creates the runs), the CLI
 * and the renderer (which shows the choices).
 */
import type { RunConfig, RunConfigPatch } from '../config/runConfig';
import { mergeConfigPatches } from '../config/presets';
import { withDefaults } from '../config/runConfig';
import type { StudyClaim, StudyKind, StudyRunRole, StudySize } from '../protocol';

export const STUDY_SIZES: readonly StudySize[] = ['tiny', 'quick', 'full'];

export interface StudyRunSpec extends StudyRunRole {
  /** Applied over the size's base config. */
  patch: RunConfigPatch;
}

/** What runs after training, per size: each evaluation reads the runs' checkpoints. */
export interface StudyEvaluationPlan {
  /** NLL (bits/dim, the full bound over all T) at every checkpoint of every run, on this many held-out images. */
  nllImages?: number;
  /** Sample quality (FID etc. on the studio's classifier), when the study has a quality phase. */
  quality?: {
    /** Generated images per measurement. */
    count: number;
    /** Respaced sampling steps K to measure (Figure 8); T is written as the number itself. */
    steps?: number[];
    /** Fractions of the reverse process skipped (Figure 3), sampled at `skipSteps` steps. */
    skipFractions?: number[];
    skipSteps?: number;
  };
}

export interface StudySizeSpec {
  size: StudySize;
  /** The study's base config at this size (complete after withDefaults). */
  base: RunConfigPatch;
  /** Steps each run trains. */
  steps: number;
  /** Expected minutes for the whole study on this machine's 2 cores (the arithmetic is beside each spec). */
  expectedMinutes: number;
  description: string;
  evaluation: StudyEvaluationPlan;
}

export interface StudyDefinition {
  kind: StudyKind;
  title: string;
  description: string;
  claims: StudyClaim[];
  runs: StudyRunSpec[];
  sizes: Record<StudySize, StudySizeSpec>;
}

/** One run of a study, ready for createRun. */
export interface StudyRunPlan {
  key: string;
  label: string;
  differs: string;
  config: RunConfig;
}

/** The complete, validated-by-test configs of a study's runs at a size, in the study's order. */
export function planStudyRuns(def: StudyDefinition, size: StudySize): StudyRunPlan[] {
  const spec = def.sizes[size];
  return def.runs.map((r) => {
    const config = withDefaults(mergeConfigPatches(spec.base, r.patch));
    config.training.maxSteps = spec.steps;
    return { key: r.key, label: r.label, differs: r.differs, config };
  });
}
