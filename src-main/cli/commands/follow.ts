/**
 * `iddpm follow DIR`: watch a reference run's log directory while a cluster writes it, adding its progress rows,
 * checkpoints and sample batches to a studio run as they appear (see runs/referenceFollow.ts). Ctrl-C stops
 * following and leaves the run as it is.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseReferenceFlagString } from '../../../src-shared/config/referenceFlagString';
import { ReferenceFollower, type FollowEvent } from '../../runs/referenceFollow';
import { ensureDir } from '../../runs/runFiles';
import { openStore } from '../../store';
import { helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { DATA_OPTION, dataDirOf } from '../dataDir';

const OPTIONS: Record<string, OptionSpec> = {
  flags: { type: 'string', description: 'the reference run\'s flags (as for iddpm import), needed to create the run' },
  'flags-file': { type: 'string', description: 'read the flags from the *_FLAGS="…" lines of a file, e.g. an export\'s launch.sh' },
  run: { type: 'string', description: 'follow into this existing run (e.g. the studio run you exported to the cluster)' },
  name: { type: 'string', description: 'name of the run created for the folder' },
  interval: { type: 'number', description: 'seconds between looks at the folder (default 5)' },
  once: { type: 'boolean', description: 'look twice (a file must stay unchanged once) and exit' },
  ...DATA_OPTION,
  help: { type: 'boolean', description: 'show this help' },
};

export const followUsage = helpText('iddpm follow LOG_DIR [--flags "…" | --flags-file launch.sh] [--run ID] [--interval S]', OPTIONS);

/** The flags of the `NAME_FLAGS="…"` lines of a shell file. */
export function flagsFromFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--flags-file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const lines = text.split('\n').filter((l) => /^\s*(export\s+)?[A-Z_]*FLAGS=/.test(l)).map((l) => l.replace(/^\s*export\s+/, ''));
  if (!lines.length) throw new UsageError(`--flags-file: ${file} has no MODEL_FLAGS="…"-style lines`);
  return parseReferenceFlagString(lines.join(' '));
}

function describe(e: FollowEvent): string {
  switch (e.type) {
    case 'waiting':
      return `waiting: ${e.reason}`;
    case 'attached':
      return `${e.created ? 'created' : 'following into'} run ${e.runId}${e.notes.map((n) => `\n  note: ${n}`).join('')}`;
    case 'rows':
      return `+${e.count} progress row(s), step ${e.lastStep}`;
    case 'checkpoint':
      return `checkpoint at step ${e.step} (${path.basename(e.path)})`;
    case 'samples':
      return `sample set ${e.setId} from ${path.basename(e.file)}`;
    case 'retry':
      return `will retry ${path.basename(e.file)}: ${e.reason}`;
  }
}

export async function followCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (options.help) return void process.stdout.write(followUsage), 0;
  const dir = positional[0];
  if (!dir) throw new UsageError(`give the reference log directory to follow\n\n${followUsage}`);
  let flags: Record<string, string>;
  try {
    flags = { ...(options['flags-file'] ? flagsFromFile(String(options['flags-file'])) : {}), ...parseReferenceFlagString(String(options.flags ?? '')) };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--${(e as Error).message}`);
  }
  const interval = options.interval === undefined ? 5 : Number(options.interval);
  if (!(interval > 0)) throw new UsageError(`--interval must be a positive number of seconds, got ${interval}`);
  const dataDir = dataDirOf(options);
  ensureDir(dataDir);
  const store = openStore(path.join(dataDir, 'studio.db'));
  const follower = new ReferenceFollower({
    store,
    dataDir,
    dir,
    flags,
    runId: options.run as string | undefined,
    name: options.name as string | undefined,
    onEvent: (e) => process.stdout.write(`${describe(e)}\n`),
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (options.once) {
      follower.poll();
      follower.poll();
    } else {
      process.stderr.write(`following ${path.resolve(dir)} every ${interval} s (Ctrl-C stops; the run stays as it is)\n`);
      await follower.run(stop.signal, interval * 1000);
    }
    process.stderr.write(`stopped following${follower.attachedRun ? `; run ${follower.attachedRun} keeps what arrived` : ''}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    store.close();
  }
}
