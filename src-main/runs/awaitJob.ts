/**
 * Awaiting a job's end from service code (studies, scripts): the same 'job' events the faces follow, plus
 * the store for a job that ended before anyone listened.
 */
import type * as P from '../../src-shared/protocol';
import type { Store } from '../store';
import { ApiFailure } from './apiFailure';
import type { EventHub } from './eventHub';
import { toJob } from './toProtocol';

const FINAL: readonly P.JobStatus[] = ['done', 'failed', 'cancelled'];

/**
 * Resolves with the job once it has ended (done, failed or cancelled); never rejects for a job that failed
 * (look at `status` and `error`). Rejects only for an unknown job id.
 */
export function waitForJob(store: Store, hub: EventHub, jobId: number): Promise<P.JobSummary> {
  return new Promise((resolve, reject) => {
    let unsubscribe: (() => void) | null = null;
    const check = (): boolean => {
      const j = store.getJob(jobId);
      if (!j) {
        unsubscribe?.();
        reject(new ApiFailure('not-found', `no job with id ${jobId}`));
        return true;
      }
      if (!FINAL.includes(j.status)) return false;
      unsubscribe?.();
      resolve(toJob(j));
      return true;
    };
    if (check()) return;
    unsubscribe = hub.subscribe((e) => {
      if (e.type === 'job' && e.job.id === jobId && FINAL.includes(e.job.status)) check();
    });
    check(); // it may have ended between the first look and subscribing
  });
}
