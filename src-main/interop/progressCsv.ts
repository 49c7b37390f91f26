/**
 * The reference logger's progress.csv (logger.py CSVOutputFormat): one row per dumpkvs() with keys such as
 * step, samples, loss, mse, vb, their quartiles loss_q0..loss_q3 (the mean loss of the timesteps in each
 * quarter of [0, T)), grad_norm and, in some versions, param_norm. When a new key appears the logger rewrites
 * the header and pads older rows, and a quartile that no timestep fell into that step is an empty cell.
 * A last line without its newline is a row still being written: it is left for the next read.
 */

export interface ReferenceProgressRow {
  /** The reference's step: 0 after the first optimisation step (train_util log_step). */
  step: number;
  samples: number | null;
  loss: number | null;
  mse: number | null;
  vb: number | null;
  /** q0..q3 for loss, mse and vb; null where no timestep fell in that quarter. */
  quartiles: { loss: (number | null)[]; mse: (number | null)[]; vb: (number | null)[] };
  gradNorm: number | null;
  paramNorm: number | null;
}

export interface ParsedProgress {
  rows: ReferenceProgressRow[];
  /** Bytes of the text that formed complete lines; a follower reads on from here next time. */
  completeBytes: number;
}

function cell(v: string | undefined): number | null {
  if (v === undefined || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

export function parseProgressCsv(text: string, source: string): ParsedProgress {
  const end = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, end).split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
  if (lines.length === 0) return { rows: [], completeBytes: 0 };
  const header = lines[0].split(',');
  const col = new Map(header.map((h, i) => [h.trim(), i]));
  if (!col.has('step')) throw new Error(`${source} has no 'step' column (header: ${lines[0].slice(0, 120)}); is it a reference progress.csv?`);
  const rows: ReferenceProgressRow[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    const get = (key: string) => {
      const i = col.get(key);
      return i === undefined ? null : cell(f[i]);
    };
    const step = get('step');
    if (step === null || !Number.isInteger(step) || step < 0) continue; // a damaged row: skip, keep the rest
    const q = (key: string) => [0, 1, 2, 3].map((i) => get(`${key}_q${i}`));
    rows.push({
      step,
      samples: get('samples'),
      loss: get('loss'),
      mse: get('mse'),
      vb: get('vb'),
      quartiles: { loss: q('loss'), mse: q('mse'), vb: q('vb') },
      gradNorm: get('grad_norm'),
      paramNorm: get('param_norm'),
    });
  }
  return { rows, completeBytes: Buffer.byteLength(text.slice(0, end)) };
}
