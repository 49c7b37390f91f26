/**
 * The data directory of a command: `--data DIR`, else $IDDPM_DATA, else ~/.iddpm-studio (README "The
 * command line"), and the `--data …` text to repeat in the commands a message suggests.
 */
import path from 'node:path';
import { defaultDataDir } from '../runs/runFiles';
import type { OptionSpec } from './args';

export const DATA_OPTION: Record<string, OptionSpec> = {
  data: { type: 'string', description: 'data directory (default $IDDPM_DATA, else ~/.iddpm-studio)' },
};

export function dataDirOf(options: Record<string, unknown>): string {
  return options.data ? path.resolve(String(options.data)) : defaultDataDir();
}

/** ` --data DIR` when the user gave one, so suggested commands act on the same directory. */
export function dataFlagOf(options: Record<string, unknown>): string {
  return options.data ? ` --data ${dataDirOf(options)}` : '';
}
