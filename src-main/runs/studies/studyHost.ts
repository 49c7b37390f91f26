/**
 * What a study needs of the run service: ordinary runs and jobs, created, resumed and stopped through the
 * same calls the faces use, and the service's events. The run service passes itself (plus two closures
 * over its private parts), so the study code never reaches into the service.
 */
import type * as P from '../../../src-shared/protocol';
import type { RunConfig } from '../../../src-shared/config/runConfig';

export interface StudyHost {
  createRun(request: { config: RunConfig; name?: string; start?: boolean; id?: string }): Promise<P.RunSummary>;
  startRun(runId: string): Promise<P.RunSummary>;
  stopRun(runId: string): Promise<P.RunSummary>;
  /** The run service's own deletion (its id and folder checks): for deleting a study with its runs. */
  deleteRun(runId: string): Promise<void>;
  startEvaluation(settings: P.EvaluationSettings): Promise<P.JobSummary>;
  /** A sample-quality job (FID, KID… on the dataset's classifier): one per point of a study's quality phase. */
  startQualityEvaluation(settings: P.QualitySettings): Promise<P.JobSummary>;
  cancelJob(jobId: number): Promise<P.JobSummary>;
  subscribe(handler: (e: P.StudioEvent) => void): () => void;
  /** A run as the faces see it, or null when it no longer exists. */
  runSummary(runId: string): P.RunSummary | null;
  /** Sends a study event to every face. */
  emit(event: P.StudioEvent): void;
}
