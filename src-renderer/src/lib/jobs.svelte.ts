/**
 * Follow one job through 'job' events. The job is refreshed from listJobs after a reconnect, because
 * the event that finished it may have been sent while we were away.
 */
import type { JobSummary } from '../../../src-shared/protocol';
import { api } from './app.svelte';
import { jobEtaSeconds } from './jobEta';

export class JobWatch {
  job: JobSummary | null = $state(null);
  /** When this page first saw the job running (the service does not record it), for the ETA. */
  private runningSince: number | null = null;

  set(job: JobSummary): void {
    this.runningSince = null;
    this.job = job;
    this.noteRunning(job);
  }

  /** Seconds left, re-read whenever the job's progress changes; null until there is a rate. */
  get etaSeconds(): number | null {
    const j = this.job;
    if (!j || j.status !== 'running' || this.runningSince === null) return null;
    return jobEtaSeconds(j.progress, (Date.now() - this.runningSince) / 1000);
  }

  private noteRunning(job: JobSummary): void {
    if (job.status === 'running' && this.runningSince === null) this.runningSince = Date.now();
  }

  /** Apply a 'job' event if it is ours; returns true when it just finished. */
  update(job: JobSummary): boolean {
    if (!this.job || job.id !== this.job.id) return false;
    const wasActive = this.job.status === 'queued' || this.job.status === 'running';
    this.noteRunning(job);
    this.job = job;
    return wasActive && job.status === 'done';
  }

  async refresh(): Promise<void> {
    const id = this.job?.id;
    if (id === undefined) return;
    const all = await api().listJobs();
    const j = all.find((x) => x.id === id);
    if (j) this.job = j;
  }

  async cancel(): Promise<void> {
    if (this.job) this.job = await api().cancelJob(this.job.id);
  }
}
