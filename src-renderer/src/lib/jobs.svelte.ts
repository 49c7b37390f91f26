/**
 * Follow one job through 'job' events. The job is refreshed from listJobs after a reconnect, because
 * the event that finished it may have been sent while we were away.
 */
import type { JobSummary } from '../../../src-shared/protocol';
import { api } from './app.svelte';

export class JobWatch {
  job: JobSummary | null = $state(null);

  set(job: JobSummary): void {
    this.job = job;
  }

  /** Apply a 'job' event if it is ours; returns true when it just finished. */
  update(job: JobSummary): boolean {
    if (!this.job || job.id !== this.job.id) return false;
    const wasActive = this.job.status === 'queued' || this.job.status === 'running';
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
