/**
 * `iddpm`: the studio's command line. Each subcommand is a thin face over the run service and jobs; errors print one
 * clear message (no stack) and exit non-zero.
 *
 * Command modules are imported only when their command runs, and they import the engine, the run service
 * and tfjs only after their arguments parse: `iddpm --help`, `iddpm sample --help` and usage errors answer
 * without loading tfjs (seconds on a busy machine).
 */
import { UsageError } from './args';
import { describeFsError } from './pathChecks';

type Run = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { load: () => Promise<Run>; summary: string }> = {
  train: { load: () => import('./commands/train').then((m) => m.trainCommand), summary: 'train a model (writes checkpoints and previews under the data directory)' },
  sample: { load: () => import('./commands/sample').then((m) => m.sampleCommand), summary: 'draw images from a checkpoint or a run (ancestral or DDIM) as PNGs' },
  eval: { load: () => import('./commands/eval').then((m) => m.evalCommand), summary: 'NLL in bits/dim on held-out images, per-t terms as CSV' },
  runs: { load: () => import('./commands/runs').then((m) => m.runsCommand), summary: "list the runs with name, status, step, loss, best NLL (or one run's checkpoints)" },
  resume: { load: () => import('./commands/runs').then((m) => m.resumeCommand), summary: 'continue a stopped, paused or interrupted run from its last checkpoint' },
  stop: { load: () => import('./commands/runs').then((m) => m.stopCommand), summary: 'ask a running run to checkpoint and stop' },
  import: { load: () => import('./commands/import').then((m) => m.importCommand), summary: 'make a run of a reference (PyTorch) log directory or .pt checkpoint' },
  'export-reference': { load: () => import('./commands/exportReference').then((m) => m.exportReferenceCommand), summary: 'write a run as .pt files, image folder and launch.sh for the reference code on a cluster' },
  follow: { load: () => import('./commands/follow').then((m) => m.followCommand), summary: "watch a reference run's log directory and add its progress and checkpoints as they appear" },
  study: { load: () => import('./commands/study').then((m) => m.studyCommand), summary: "run one of the paper's studies (several runs + a report with verdicts), list or resume them" },
  serve: { load: () => import('./commands/serve').then((m) => m.serveCommand), summary: 'the studio in a browser: web face on 127.0.0.1 with a token URL' },
};

export function mainUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return `iddpm — Improved DDPM studio\n\nUsage: iddpm <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nEvery command takes --data DIR (default $IDDPM_DATA, else ~/.iddpm-studio).\nRun 'iddpm <command> --help' for its options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  // `iddpm help sample` is `iddpm sample --help`.
  if (argv[0] === 'help' && argv[1] && argv[1] in COMMANDS) return main([argv[1], '--help']);
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(mainUsage());
    return command ? 0 : 1;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`iddpm: unknown command '${command}'\n\n${mainUsage()}`);
    return 2;
  }
  try {
    const run = await entry.load();
    return await run(rest);
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError) {
      process.stderr.write(`iddpm ${command}: ${err.message}\n`);
      return 2;
    }
    if (err.name === 'AbortError') {
      process.stderr.write(`iddpm ${command}: ${err.message}\n`);
      return 130;
    }
    // A file-system error that no check caught still gets words instead of its errno code.
    process.stderr.write(`iddpm ${command}: ${describeFsError(err) ?? err.message}\n`);
    if (process.env.IDDPM_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
