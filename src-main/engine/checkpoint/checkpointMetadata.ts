/**
 * The header metadata of a studio checkpoint, checked before anything is built from it. A checkpoint is a
 * file a user can copy, edit or receive, so its metadata is input like any other: the config goes through
 * the same validator as a new run's (so a header claiming T = 1e9 or 320000 channels is refused before the
 * noise process or the UNet allocate), and every other entry is checked for the shape the reader needs.
 * Errors name the file, the entry and what is wrong, instead of "Cannot read properties of null".
 */
import { validateRunConfig } from '../../../src-shared/config/validate';
import type { RunConfig } from '../../../src-shared/config/runConfig';

import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from '../../imageio/checkpointFormat';

export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION };

export interface CheckpointInfo {
  config: RunConfig;
  step: number;
  emaRates: number[];
}

export class CheckpointMetadataError extends Error {
  constructor(
    readonly file: string,
    readonly entry: string,
    problem: string,
  ) {
    super(`checkpoint ${file}: metadata '${entry}' ${problem}; the header is damaged or was written by another program, so use another checkpoint`);
    this.name = 'CheckpointMetadataError';
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** Reads entries of one checkpoint's metadata, each parsed and checked, failing with the file and entry. */
export class MetadataReader {
  constructor(
    private readonly metadata: Record<string, string>,
    readonly file: string,
  ) {}

  fail(entry: string, problem: string): never {
    throw new CheckpointMetadataError(this.file, entry, problem);
  }

  json(entry: string): unknown {
    const text = this.metadata[entry];
    if (text === undefined) this.fail(entry, 'is missing');
    try {
      return JSON.parse(text);
    } catch {
      return this.fail(entry, `is not JSON (${show(text)})`);
    }
  }

  object(entry: string): Record<string, unknown> {
    const v = this.json(entry);
    if (!isPlainObject(v)) this.fail(entry, `must be an object, not ${show(v)}`);
    return v;
  }

  wholeNumber(entry: string, v: unknown): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(entry, `must be a whole number ≥ 0, not ${show(v)}`);
    return v;
  }

  /** The config, validated like a new run's. */
  config(): RunConfig {
    const cfg = this.json('config');
    const problems = validateRunConfig(cfg);
    if (problems.length > 0) this.fail('config', `is not a valid run config (${problems.map((p) => p.message.replace(/\.$/, '')).join('; ')})`);
    return cfg as RunConfig;
  }

  step(): number {
    const text = this.metadata.step;
    if (text === undefined) this.fail('step', 'is missing');
    if (!/^\d{1,15}$/.test(text)) this.fail('step', `must be a whole number, not ${show(text)}`);
    return Number(text);
  }

  emaRates(): number[] {
    const v = this.json('ema_rates');
    if (!Array.isArray(v) || !v.every((r) => typeof r === 'number' && r > 0 && r < 1)) {
      this.fail('ema_rates', `must be a list of rates between 0 and 1, not ${show(v)}`);
    }
    return v as number[];
  }
}

/** The facts every reader needs, all checked. */
export function parseCheckpointInfo(metadata: Record<string, string>, file: string): CheckpointInfo & { reader: MetadataReader } {
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`${file} is a safetensors file but not an iddpm-studio checkpoint (format '${metadata.format ?? 'missing'}')`);
  }
  const reader = new MetadataReader(metadata, file);
  return { config: reader.config(), step: reader.step(), emaRates: reader.emaRates(), reader };
}
