/**
 * Schema version 1: the tables of the first release. Never edit this after it has shipped: change the
 * schema by appending a migration in migrations.ts, because databases in the wild already ran this one.
 *
 * Conventions:
 * - times are INTEGER ms since the epoch; JSON columns are TEXT; vectors over t are little-endian blobs
 *   (blobs.ts);
 * - every child row references its run with ON DELETE CASCADE so deleting a run is one statement, and
 *   every foreign key column has an index (SQLite needs one on the child side, else each parent delete
 *   scans the whole child table);
 * - enumerated columns (status, kind) are checked in TypeScript at the boundary, not with CHECK
 *   constraints: SQLite cannot alter a CHECK without rebuilding the table, and statuses will grow.
 */
export const SCHEMA_V1 = /* sql */ `
CREATE TABLE runs (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  config      TEXT NOT NULL,                 -- RunConfig as JSON
  status      TEXT NOT NULL,
  backend     TEXT,                          -- one-line backend description
  dataset     TEXT,                          -- one-line dataset description
  created_at  INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER,
  updated_at  INTEGER NOT NULL,
  step        INTEGER NOT NULL DEFAULT 0,
  max_steps   INTEGER,
  error       TEXT,                          -- why it failed / stopped / was interrupted
  run_dir     TEXT,
  parent_id   TEXT REFERENCES runs(id) ON DELETE SET NULL,
  worker_pid  INTEGER
);
CREATE INDEX runs_created ON runs(created_at);
CREATE INDEX runs_status ON runs(status);
CREATE INDEX runs_parent ON runs(parent_id);

-- One row per optimisation step. WITHOUT ROWID clusters the rows on (run_id, step): a series read is one
-- contiguous range scan of the primary key, which therefore is the covering index, and the upsert of a
-- re-trained step and the range delete of truncateAfter both use it directly.
CREATE TABLE step_metrics (
  run_id          TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step            INTEGER NOT NULL,
  time            INTEGER NOT NULL,
  loss            REAL,
  mse             REAL,
  vb              REAL,
  grad_norm       REAL,
  lr              REAL,
  samples_per_sec REAL,
  step_ms         REAL,
  loss_q0 REAL, loss_q1 REAL, loss_q2 REAL, loss_q3 REAL,
  mse_q0  REAL, mse_q1  REAL, mse_q2  REAL, mse_q3  REAL,
  vb_q0   REAL, vb_q1   REAL, vb_q2   REAL, vb_q3   REAL,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

CREATE TABLE vlb_snapshots (
  run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step       INTEGER NOT NULL,
  timesteps  BLOB NOT NULL,                  -- int32 LE
  terms      BLOB NOT NULL,                  -- float32 LE, bits/dim per timestep
  mse        BLOB NOT NULL,                  -- float32 LE
  prior_bpd  REAL NOT NULL,
  total_bpd  REAL,                           -- only when every t was evaluated
  weights    TEXT NOT NULL,                  -- 'ema' | 'raw'
  ema_rate   REAL,
  images     INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, step)
);

CREATE TABLE gns_points (
  run_id       TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step         INTEGER NOT NULL,
  b_simple     REAL,
  b_simple_raw REAL,
  grad_sq      REAL,
  trace_sigma  REAL,
  b_small      INTEGER,
  b_big        INTEGER,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

CREATE TABLE sampler_weights (
  run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step    INTEGER NOT NULL,
  weights BLOB NOT NULL,                     -- float32 LE over t
  PRIMARY KEY (run_id, step)
);

CREATE TABLE checkpoints (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step       INTEGER NOT NULL,
  path       TEXT NOT NULL,
  bytes      INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  ema_rates  TEXT NOT NULL,                  -- JSON number[]
  UNIQUE (run_id, step)
);

CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT NOT NULL,               -- 'sample' | 'eval'
  run_id        TEXT REFERENCES runs(id) ON DELETE CASCADE,
  checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
  status        TEXT NOT NULL,
  progress      REAL NOT NULL DEFAULT 0,
  settings      TEXT NOT NULL,               -- JSON
  result        TEXT,                        -- JSON
  error         TEXT,
  created_at    INTEGER NOT NULL,
  started_at    INTEGER,
  finished_at   INTEGER,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX jobs_status ON jobs(status);
CREATE INDEX jobs_run ON jobs(run_id);
CREATE INDEX jobs_checkpoint ON jobs(checkpoint_id);

-- Sample grids from the Sample view (kind 'sample') and previews drawn during training (kind 'preview').
CREATE TABLE sample_sets (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT NOT NULL,
  run_id        TEXT REFERENCES runs(id) ON DELETE CASCADE,
  checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
  job_id        INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
  step          INTEGER,
  created_at    INTEGER NOT NULL,
  settings      TEXT NOT NULL,               -- JSON, as embedded in the PNGs
  sampler       TEXT NOT NULL,               -- 'ancestral' | 'ddim'
  steps         INTEGER NOT NULL,
  eta           REAL,
  seed          INTEGER NOT NULL,
  count         INTEGER NOT NULL,
  ema_rate      REAL,
  grid_path     TEXT,
  status        TEXT NOT NULL
);
CREATE INDEX sample_sets_run ON sample_sets(run_id, kind, step);
CREATE INDEX sample_sets_checkpoint ON sample_sets(checkpoint_id);
CREATE INDEX sample_sets_job ON sample_sets(job_id);
CREATE INDEX sample_sets_created ON sample_sets(created_at);
-- At most one preview per run and step, so a resumed run that redraws a preview replaces it.
CREATE UNIQUE INDEX sample_sets_preview ON sample_sets(run_id, step) WHERE kind = 'preview';

CREATE TABLE sample_images (
  set_id INTEGER NOT NULL REFERENCES sample_sets(id) ON DELETE CASCADE,
  idx    INTEGER NOT NULL,
  path   TEXT NOT NULL,
  PRIMARY KEY (set_id, idx)
) WITHOUT ROWID;

CREATE TABLE evaluations (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id        TEXT REFERENCES runs(id) ON DELETE CASCADE,
  checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
  job_id        INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
  step          INTEGER,
  ema_rate      REAL,
  created_at    INTEGER NOT NULL,
  status        TEXT NOT NULL,               -- 'running' | 'done' | 'failed'
  bpd           REAL,
  prior_bpd     REAL,
  images        INTEGER,
  timesteps     BLOB,                        -- int32 LE
  terms         BLOB,                        -- float32 LE, bits/dim
  mse           BLOB,
  xstart_mse    BLOB,
  error         TEXT
);
CREATE INDEX evaluations_run ON evaluations(run_id, created_at);
CREATE INDEX evaluations_checkpoint ON evaluations(checkpoint_id);
CREATE INDEX evaluations_job ON evaluations(job_id);
`;
