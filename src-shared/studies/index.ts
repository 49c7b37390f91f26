/**
 * The built-in studies (a study: a named set of ordinary runs that differ in one setting, with a report that
 * tests one or more of the paper's claims). Import from here.
 */
import type { StudyKind, StudyKindInfo, StudySize } from '../protocol';
import { STUDY_SIZES, type StudyDefinition } from './definition';
import { IMPORTANCE_SAMPLING } from './importanceSampling';
import { NOISE_SCHEDULE } from './noiseSchedule';
import { SAMPLING_STEPS } from './samplingSteps';

export { STUDY_SIZES, planStudyRuns, type StudyDefinition, type StudyEvaluationPlan, type StudyRunPlan, type StudyRunSpec, type StudySizeSpec } from './definition';

const DEFINITIONS: readonly StudyDefinition[] = [NOISE_SCHEDULE, SAMPLING_STEPS, IMPORTANCE_SAMPLING];

export const STUDY_KINDS: readonly StudyKind[] = DEFINITIONS.map((d) => d.kind);

/** Why `kind` is not a study, naming the valid ones; null when it is. */
export function studyKindProblem(kind: unknown): string | null {
  if (typeof kind === 'string' && (STUDY_KINDS as readonly string[]).includes(kind)) return null;
  return `unknown study ${JSON.stringify(kind) ?? 'nothing'}: the studies are ${STUDY_KINDS.join(', ')}`;
}

/** Why `size` is not a study size; null when it is. */
export function studySizeProblem(size: unknown): string | null {
  if (typeof size === 'string' && (STUDY_SIZES as readonly string[]).includes(size)) return null;
  return `unknown size ${JSON.stringify(size) ?? 'nothing'}: use ${STUDY_SIZES.join(', ')} (tiny: seconds, quick: minutes, full: about an hour)`;
}

export function getStudyDefinition(kind: StudyKind): StudyDefinition {
  const d = DEFINITIONS.find((x) => x.kind === kind);
  if (!d) throw new Error(studyKindProblem(kind)!);
  return d;
}

/** What the faces show of a study before it runs. */
export function studyKindInfo(def: StudyDefinition): StudyKindInfo {
  return {
    kind: def.kind,
    title: def.title,
    description: def.description,
    claims: def.claims.map((c) => ({ ...c })),
    runs: def.runs.map(({ key, label, differs }) => ({ key, label, differs })),
    sizes: STUDY_SIZES.map((size: StudySize) => {
      const s = def.sizes[size];
      return { size, steps: s.steps, expectedMinutes: s.expectedMinutes, description: s.description };
    }),
  };
}

export function listStudyKinds(): StudyKindInfo[] {
  return DEFINITIONS.map(studyKindInfo);
}
