/**
 * Schema version 3: sample-quality results (FID/KID/PR/IS on the dataset's classifier, one row per quality
 * job) and the phase a running job is in (a quality job trains a classifier, samples, then measures).
 */
export const SCHEMA_V3 = /* sql */ `
ALTER TABLE jobs ADD COLUMN phase TEXT;

CREATE TABLE quality_results (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id        TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
  job_id        INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
  step          INTEGER NOT NULL,            -- the checkpoint's training step
  sweep_id      TEXT,                        -- jobs started together as one quality-vs-steps sweep
  sampler       TEXT NOT NULL,               -- 'ancestral' | 'ddim'
  steps         INTEGER NOT NULL,            -- sampling steps K
  skip_fraction REAL NOT NULL DEFAULT 0,
  count         INTEGER NOT NULL,            -- generated images
  settings      TEXT NOT NULL,               -- JSON: every setting of the job
  report        TEXT NOT NULL,               -- JSON: the metrics with their caveat
  classifier    TEXT NOT NULL,               -- JSON: dataset key, held-out accuracy, trained now or cached
  created_at    INTEGER NOT NULL
);
CREATE INDEX quality_results_run ON quality_results(run_id, created_at);
CREATE INDEX quality_results_sweep ON quality_results(sweep_id);
`;
