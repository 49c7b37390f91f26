/**
 * Store tests run on a real SQLite file in a fresh temp folder (never :memory:), so WAL, file locking,
 * foreign keys and error paths behave as they do in the studio.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDefaults, type RunConfig } from '../../src-shared/config/runConfig';
import { openStore, type Store, type StepMetricRow, type StoreOptions } from '../../src-main/store';

export interface TempStore {
  dir: string;
  file: string;
  store: Store;
  /** Reopens the same file (closing the current store first). */
  reopen: (opts?: StoreOptions) => Store;
  cleanup: () => void;
}

export function tempDir(prefix = 'iddpm-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function tempStore(opts: StoreOptions = {}): TempStore {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'studio.db');
  const t: TempStore = {
    dir,
    file,
    store: openStore(file, opts),
    reopen: (o = opts) => {
      t.store.close();
      t.store = openStore(file, o);
      return t.store;
    },
    cleanup: () => {
      t.store.close();
      cleanup();
    },
  };
  return t;
}

export function smallConfig(): RunConfig {
  return withDefaults({ dataset: { kind: 'mnist' }, model: { imageSize: 28, imageChannels: 1, channels: 32, channelMult: [1, 2] }, training: { maxSteps: 1000 } });
}

/** A deterministic metric row for step s; vb is null when `simple`. */
export function metricRow(step: number, opts: { simple?: boolean; t0?: number } = {}): StepMetricRow {
  const loss = 1 / (1 + step / 100) + 0.001 * ((step * 7919) % 13);
  return {
    step,
    time: (opts.t0 ?? 1_700_000_000_000) + step * 10,
    loss,
    mse: loss * 0.9,
    vb: opts.simple ? null : loss * 0.1,
    gradNorm: 1 + (step % 5) / 10,
    lr: 1e-4,
    samplesPerSec: 100 + (step % 3),
    stepMs: 80,
    lossQ: [loss * 2, loss, loss / 2, null],
    mseQ: [loss, loss, loss, loss],
    vbQ: opts.simple ? null : [0.1, 0.2, 0.3, 0.4],
  };
}

export function rows(from: number, to: number, opts?: { simple?: boolean }): StepMetricRow[] {
  return Array.from({ length: to - from + 1 }, (_, i) => metricRow(from + i, opts));
}

/** Counts rows of `table` belonging to run `runId` (every child table has run_id). */
export function countFor(store: Store, table: string, runId: string): number {
  return store.db.prepare(`SELECT count(*) FROM ${table} WHERE run_id = ?`).pluck().get(runId) as number;
}
