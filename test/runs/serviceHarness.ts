/** A RunService on a fresh temp data directory, with helpers to wait for what a test expects. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunSummary, StudioEvent } from '../../src-shared/protocol';
import { createRunService, type RunService, type RunServiceOptions } from '../../src-main/runs/runService';

/** The statuses a run stops moving in (a test waits for one of these after stop, pause or the end). */
const FINAL = ['done', 'failed', 'interrupted', 'stopped', 'paused'];

/** The run as the newest 'run' event for `id` describes it. */
export function lastRunEvent(events: StudioEvent[], id: string): RunSummary | undefined {
  const e = events.filter((x) => x.type === 'run' && x.run.id === id).at(-1);
  return e?.type === 'run' ? e.run : undefined;
}

export interface Harness {
  dataDir: string;
  service: RunService;
  events: StudioEvent[];
  waitFor<T>(check: () => T | undefined | null | false, what: string, timeoutMs?: number): Promise<T>;
  /** Waits until the run's newest event shows a FINAL status other than `skip` (the one it is resumed from). */
  waitForRunEnd(runId: string, what: string, skip?: string): Promise<RunSummary>;
  cleanup(): Promise<void>;
}

export async function startHarness(
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'iddpm-svc-')),
  options: Partial<Omit<RunServiceOptions, 'dataDir'>> = {},
): Promise<Harness> {
  const service = await createRunService({ face: 'cli', ...options, dataDir });
  const events: StudioEvent[] = [];
  service.subscribe((e) => events.push(e));
  async function waitFor<T>(check: () => T | undefined | null | false, what: string, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    dataDir,
    service,
    events,
    waitFor,
    waitForRunEnd(runId, what, skip) {
      return waitFor(() => {
        const r = lastRunEvent(events, runId);
        return r && FINAL.includes(r.status) && r.status !== skip ? r : undefined;
      }, what);
    },
    async cleanup() {
      await service.close(5000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
