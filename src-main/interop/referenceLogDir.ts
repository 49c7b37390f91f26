/**
 * What a reference log directory holds, by the names its code writes (train_util.py save(),
 * logger.configure, scripts/image_sample.py): model{step:06d}.pt, ema_{rate}_{step:06d}.pt,
 * opt{step:06d}.pt, progress.csv, log.txt and samples_{N}x{H}x{W}x{C}.npz. Listing only; nothing is read.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface ReferenceCheckpointFiles {
  /** Steps done (the number in the name). */
  step: number;
  model: string;
  /** By EMA rate. */
  ema: Map<number, string>;
  opt: string | null;
}

export interface ReferenceSamplesFile {
  file: string;
  count: number;
  size: number;
}

export interface ReferenceLogDir {
  dir: string;
  /** Oldest first. */
  checkpoints: ReferenceCheckpointFiles[];
  progress: string | null;
  log: string | null;
  samples: ReferenceSamplesFile[];
}

const MODEL = /^model(\d+)\.pt$/;
const EMA = /^ema_([0-9.eE+-]+)_(\d+)\.pt$/;
const OPT = /^opt(\d+)\.pt$/;
const SAMPLES = /^samples_(\d+)x(\d+)x(\d+)x(\d+)\.npz$/;

export function scanReferenceLogDir(dir: string): ReferenceLogDir {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw new Error(`cannot list ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const byStep = new Map<number, ReferenceCheckpointFiles>();
  const emaByStep = new Map<number, Map<number, string>>();
  const optByStep = new Map<number, string>();
  const samples: ReferenceSamplesFile[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    let m: RegExpExecArray | null;
    if ((m = MODEL.exec(name))) byStep.set(Number(m[1]), { step: Number(m[1]), model: full, ema: new Map(), opt: null });
    else if ((m = EMA.exec(name))) {
      const step = Number(m[2]);
      if (!emaByStep.has(step)) emaByStep.set(step, new Map());
      emaByStep.get(step)!.set(Number(m[1]), full);
    } else if ((m = OPT.exec(name))) optByStep.set(Number(m[1]), full);
    else if ((m = SAMPLES.exec(name))) samples.push({ file: full, count: Number(m[1]), size: Number(m[2]) });
  }
  for (const c of byStep.values()) {
    c.ema = emaByStep.get(c.step) ?? new Map();
    c.opt = optByStep.get(c.step) ?? null;
  }
  const isFile = (f: string) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  };
  const progress = path.join(dir, 'progress.csv');
  const log = path.join(dir, 'log.txt');
  return {
    dir,
    checkpoints: [...byStep.values()].sort((a, b) => a.step - b.step),
    progress: isFile(progress) ? progress : null,
    log: isFile(log) ? log : null,
    samples,
  };
}
