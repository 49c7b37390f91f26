/**
 * A small command-line parser: positional arguments plus `--name value`, `--name=value` and boolean
 * `--flag` / `--no-flag`. Unknown options are errors that list the known ones.
 *
 * Every value is checked here, in one place, against its spec: numbers must be written in plain decimal
 * (`0x10`, `1e3` for a whole number, `Infinity` are refused rather than read as something the user did not
 * mean), whole numbers and ranges are enforced, and string options with a fixed set of values are checked
 * against it. Each message names the flag, what it means, what was given and what to give instead.
 */
export interface OptionSpec {
  /**
   * 'boolean' flags take no value; others take one. 'integer' is a whole number in decimal digits;
   * 'number' is a decimal number that may carry an exponent (`2e-4` is the usual way to write a rate).
   */
  type: 'string' | 'number' | 'integer' | 'boolean' | 'list';
  description: string;
  /** Inclusive bounds for 'integer' and 'number'. */
  min?: number;
  max?: number;
  /** What to do when the value is above `max` (e.g. "run it again with another --seed"). */
  maxHint?: string;
  /** A typical value, shown when a value is refused (default: one inside the bounds). */
  example?: string;
  /** The allowed values of a 'string' option. */
  choices?: readonly string[];
}

export interface ParsedArgs {
  positional: string[];
  options: Record<string, string | number | boolean | string[]>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Whole numbers: optional sign and decimal digits only. */
const INTEGER = /^[+-]?\d+$/;
/** Decimal numbers: digits with an optional fraction and exponent; no hex, octal, binary, Infinity or NaN. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parseArgs(argv: readonly string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const positional: string[] = [];
  const options: ParsedArgs['options'] = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' && spec.help?.type === 'boolean') {
      options.help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      positional.push(arg);
      continue;
    }
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let negated = false;
    if (!(name in spec) && name.startsWith('no-') && spec[name.slice(3)]?.type === 'boolean') {
      name = name.slice(3);
      negated = true;
    }
    const s = spec[name];
    if (!s) {
      throw new UsageError(`unknown option --${name} (known: ${Object.keys(spec).map((k) => `--${k}`).join(', ')})`);
    }
    if (s.type === 'boolean') {
      options[name] = negated ? false : value === undefined ? true : value !== 'false' && value !== '0';
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value (${s.description})`);
    }
    options[name] = parseValue(name, s, value);
  }
  return { positional, options };
}

/** One option value, checked against its spec; the message names the flag and the fix. */
export function parseValue(name: string, s: OptionSpec, value: string, label = `--${name}`): string | number | string[] {
  const text = value.trim();
  // "--batch (images per network call)": the flag and what it means, without the default in the description.
  const what = `${label} (${s.description.replace(/\s*\(default[^)]*\)/, '').replace(/\s*\([^)]*\)$/, '')})`;
  if (s.type === 'integer' || s.type === 'number') {
    const integer = s.type === 'integer';
    if (!(integer ? INTEGER : DECIMAL).test(text)) {
      const kind = integer ? 'a whole number in decimal digits' : 'a decimal number';
      const example = s.example ?? (s.min !== undefined || s.max !== undefined ? exampleFor(s) : integer ? '' : '0.25 or 2e-4');
      throw new UsageError(`${what} must be ${kind}${example ? `, e.g. ${example}` : ''}; got '${value}'`);
    }
    const n = Number(text);
    if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) {
      throw new UsageError(`${what} is too large: '${value}'${s.max !== undefined ? ` (at most ${s.max})` : ''}`);
    }
    if (s.min !== undefined && n < s.min) {
      throw new UsageError(`${what} must be ${integer ? 'a whole number ' : ''}≥ ${s.min}, got ${text}`);
    }
    if (s.max !== undefined && n > s.max) {
      throw new UsageError(`${what} must be at most ${s.max}, got ${text}${s.maxHint ? `: ${s.maxHint}` : ''}`);
    }
    return n;
  }
  if (s.type === 'list') return text.split(',').map((v) => v.trim()).filter(Boolean);
  if (s.choices && !s.choices.includes(text)) {
    throw new UsageError(`--${name} must be one of ${s.choices.join(', ')}; got '${value}'`);
  }
  if (text === '') throw new UsageError(`${what} needs a value, got an empty one`);
  return text;
}

/** A value inside the bounds, for messages. */
function exampleFor(s: OptionSpec): string {
  const lo = s.min ?? -Infinity;
  const hi = s.max ?? Infinity;
  const pick = s.type === 'integer' ? 50 : 0.5;
  return String(Math.max(lo, Math.min(hi, pick)));
}

export function helpText(usage: string, spec: Record<string, OptionSpec>): string {
  const width = Math.max(...Object.keys(spec).map((k) => k.length)) + 4;
  const lines = Object.entries(spec).map(([k, s]) => `  --${k.padEnd(width)}${s.description}`);
  return `${usage}\n\nOptions:\n${lines.join('\n')}\n`;
}

/** Refuses positional arguments beyond the ones a command takes. */
export function expectPositional(positional: readonly string[], names: readonly string[], usage: string): void {
  if (positional.length > names.length) {
    const extra = positional.slice(names.length).map((p) => `'${p}'`).join(' ');
    const takes = names.length ? `takes ${names.join(' ')} only` : 'takes no positional arguments';
    throw new UsageError(`this command ${takes}; remove ${extra} (options start with --)\n\n${usage}`);
  }
}
