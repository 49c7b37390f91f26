/**
 * The CLI's one place for option values (src-main/cli/args.ts) and its file-error wording, on their own:
 * the child-process tests in cliMessages.test.ts show the same messages reach the user.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError, type OptionSpec } from '../../src-main/cli/args';
import { describeFsError } from '../../src-main/cli/pathChecks';

const SPEC: Record<string, OptionSpec> = {
  steps: { type: 'integer', min: 1, description: 'sampling steps (default 50)' },
  lr: { type: 'number', min: 0, description: 'learning rate' },
  offset: { type: 'integer', description: 'a signed whole number' },
  sampler: { type: 'string', choices: ['ancestral', 'ddim'], description: 'sampler' },
  help: { type: 'boolean', description: 'help' },
};

function message(argv: string[]): string {
  try {
    parseArgs(argv, SPEC);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
}

describe('parseArgs numbers', () => {
  it('reads plain decimal whole numbers and decimal rates with exponents', () => {
    expect(parseArgs(['--steps', '16', '--lr=2e-4', '--offset', '-3', '--sampler', 'ddim'], SPEC).options).toEqual({ steps: 16, lr: 2e-4, offset: -3, sampler: 'ddim' });
    expect(parseArgs(['--lr', '.5'], SPEC).options.lr).toBe(0.5);
  });

  it.each(['0x10', '0o20', '0b10000', '1e1', '16.0', '16abc', ' ', 'Infinity', '1_6'])('refuses %j for a whole number, naming the flag', (v) => {
    expect(message(['--steps', v])).toMatch(/^--steps \(sampling steps\) must be a whole number in decimal digits/);
  });

  it.each(['0x1', 'NaN', '-Infinity', '1e', '2e-4x'])('refuses %j for a decimal number', (v) => {
    expect(message(['--lr', v])).toMatch(/^--lr \(learning rate\) must be a decimal number/);
  });

  it('enforces bounds, precision and choices', () => {
    expect(message(['--steps', '0'])).toBe('--steps (sampling steps) must be a whole number ≥ 1, got 0');
    expect(message(['--lr', '-1'])).toMatch(/--lr .* ≥ 0, got -1/);
    expect(message(['--steps', '99999999999999999999'])).toMatch(/--steps .* too large/);
    expect(message(['--sampler', 'plms'])).toBe("--sampler must be one of ancestral, ddim; got 'plms'");
    expect(message(['--steps'])).toMatch(/--steps needs a value/);
  });

  it('-h means --help', () => {
    expect(parseArgs(['-h'], SPEC).options.help).toBe(true);
  });
});

describe('describeFsError', () => {
  it('says what is wrong with the path instead of the errno code', () => {
    const missing = path.join(os.tmpdir(), 'iddpm-no-such-dir', 'x.csv');
    let err: unknown;
    try {
      readFileSync(missing);
    } catch (e) {
      err = e;
    }
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(describeFsError(err)).toBe(`${missing} does not exist`);
    err = undefined;
    try {
      writeFileSync(os.tmpdir(), 'x');
    } catch (e) {
      err = e;
    }
    expect(describeFsError(err)).toBe(`${os.tmpdir()} is a folder, not a file`);
    expect(describeFsError(new Error('not a file-system error'))).toBeNull();
  });
});
