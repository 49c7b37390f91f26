/**
 * A small command-line parser: positional arguments plus `--name value`, `--name=value` and boolean
 * `--flag` / `--no-flag`. Unknown options are errors that list the known ones.
 */
export interface OptionSpec {
  /** 'boolean' flags take no value; others take one. */
  type: 'string' | 'number' | 'boolean' | 'list';
  description: string;
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

export function parseArgs(argv: readonly string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const positional: string[] = [];
  const options: ParsedArgs['options'] = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
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
    if (s.type === 'number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${value}'`);
      options[name] = n;
    } else if (s.type === 'list') {
      options[name] = value.split(',').map((v) => v.trim()).filter(Boolean);
    } else {
      options[name] = value;
    }
  }
  return { positional, options };
}

export function helpText(usage: string, spec: Record<string, OptionSpec>): string {
  const width = Math.max(...Object.keys(spec).map((k) => k.length)) + 4;
  const lines = Object.entries(spec).map(([k, s]) => `  --${k.padEnd(width)}${s.description}`);
  return `${usage}\n\nOptions:\n${lines.join('\n')}\n`;
}
