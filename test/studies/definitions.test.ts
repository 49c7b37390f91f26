/** The built-in studies: every run of every size is a valid config, and runs differ only in the setting named. */
import { describe, expect, it } from 'vitest';
import { validateRunConfig } from '../../src-shared/config/validate';
import { skipFractionProblem, stepsAfterSkip } from '../../src-shared/diffusion/skipFraction';
import { RUN_ID_MAX_LENGTH, runIdProblem } from '../../src-shared/runId';
import { getStudyDefinition, listStudyKinds, planStudyRuns, STUDY_KINDS, STUDY_SIZES, studyKindProblem, studySizeProblem } from '../../src-shared/studies';

/** Leaf paths of a config whose values differ between two configs. */
function differingFields(a: unknown, b: unknown, prefix = ''): string[] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    return [...keys].flatMap((k) => differingFields((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

describe('study definitions', () => {
  it.each(STUDY_KINDS.flatMap((k) => STUDY_SIZES.map((s) => [k, s] as const)))('%s (%s): every run validates and trains a fixed number of steps', (kind, size) => {
    const runs = planStudyRuns(getStudyDefinition(kind), size);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const r of runs) {
      expect(validateRunConfig(r.config, { requireDatasetPath: false })).toEqual([]);
      expect(r.config.training.maxSteps).toBe(getStudyDefinition(kind).sizes[size].steps);
      // Every checkpoint is kept: the report evaluates each one.
      expect(r.config.intervals.keepCheckpoints).toBe(0);
    }
  });

  it.each(STUDY_KINDS.flatMap((k) => STUDY_SIZES.map((s) => [k, s] as const)))('%s (%s): runs differ only in the settings they name', (kind, size) => {
    const runs = planStudyRuns(getStudyDefinition(kind), size);
    for (const r of runs.slice(1)) {
      const fields = differingFields(runs[0].config, r.config);
      expect(fields.length).toBeGreaterThan(0);
      for (const f of fields) {
        const leaf = f.split('.').at(-1)!;
        expect(`${runs[0].differs}; ${r.differs}`, `${kind} ${size}: ${r.key} differs in ${f}`).toContain(leaf);
      }
    }
  });

  it('asks only for quality points the models can sample: K ≤ T, and K ≤ the steps a skipped prefix leaves', () => {
    for (const kind of STUDY_KINDS) {
      for (const size of STUDY_SIZES) {
        const spec = getStudyDefinition(kind).sizes[size];
        const T = planStudyRuns(getStudyDefinition(kind), size)[0].config.diffusion.steps;
        for (const k of spec.evaluation.quality?.steps ?? []) expect(k, `${kind} ${size}`).toBeLessThanOrEqual(T);
        for (const f of spec.evaluation.quality?.skipFractions ?? []) {
          expect(skipFractionProblem(f, T)).toBeNull();
          expect(spec.evaluation.quality!.skipSteps!, `${kind} ${size} skip ${f}`).toBeLessThanOrEqual(stepsAfterSkip(T, f));
        }
      }
    }
  });

  it('keeps the full sizes near an hour and the quick ones to minutes, by their own arithmetic', () => {
    for (const info of listStudyKinds()) {
      const bySize = Object.fromEntries(info.sizes.map((s) => [s.size, s]));
      expect(bySize.full.expectedMinutes, info.kind).toBeGreaterThanOrEqual(40);
      expect(bySize.full.expectedMinutes, info.kind).toBeLessThanOrEqual(65);
      expect(bySize.quick.expectedMinutes, info.kind).toBeLessThanOrEqual(12);
      expect(bySize.tiny.expectedMinutes, info.kind).toBeLessThanOrEqual(1);
    }
  });

  it('names run ids that fit the run-id rule', () => {
    for (const kind of STUDY_KINDS) {
      for (const r of getStudyDefinition(kind).runs) {
        const id = `${kind}-20261129-163247-99-${r.key}`;
        expect(id.length).toBeLessThanOrEqual(RUN_ID_MAX_LENGTH);
        expect(runIdProblem(id)).toBeNull();
      }
    }
  });

  it('states each claim with its figure and says what is compared', () => {
    for (const info of listStudyKinds()) {
      expect(info.claims.length).toBeGreaterThan(0);
      for (const c of info.claims) {
        expect(c.figure).toMatch(/^(Figure|Table) \d+$/);
        expect(c.statement.length).toBeGreaterThan(20);
        expect(c.test.length).toBeGreaterThan(20);
      }
    }
  });

  it('refuses unknown kinds and sizes with the valid ones', () => {
    expect(studyKindProblem('noise')).toBe('unknown study "noise": the studies are noise-schedule, sampling-steps, importance-sampling');
    expect(studyKindProblem('importance-sampling')).toBeNull();
    expect(studySizeProblem('huge')).toMatch(/use tiny, quick, full/);
    expect(studySizeProblem('full')).toBeNull();
  });
});
