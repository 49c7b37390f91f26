/**
 * `iddpm`: the studio's command line. Each subcommand is a thin face over the run service and jobs; errors print one
 * clear message (no stack) and exit non-zero.
 */
import { UsageError } from './args';
import { evalCommand, evalUsage } from './commands/eval';
import { exportReferenceCommand, exportReferenceUsage } from './commands/exportReference';
import { followCommand, followUsage } from './commands/follow';
import { importCommand, importUsage } from './commands/import';
import { resumeCommand, resumeUsage, runsCommand, runsUsage, stopCommand, stopUsage } from './commands/runs';
import { sampleCommand, sampleUsage } from './commands/sample';
import { serveCommand, serveUsage } from './commands/serve';
import { trainCommand, trainUsage } from './commands/train';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string; summary: string }> = {
  train: { run: trainCommand, usage: trainUsage, summary: 'train a model (writes checkpoints and previews under the data directory)' },
  sample: { run: sampleCommand, usage: sampleUsage, summary: 'draw images from a checkpoint (ancestral or DDIM) as PNGs' },
  eval: { run: evalCommand, usage: evalUsage, summary: 'NLL in bits/dim on held-out images, per-t terms as CSV' },
  runs: { run: runsCommand, usage: runsUsage, summary: 'list the runs of the data directory with status, step and reason' },
  resume: { run: resumeCommand, usage: resumeUsage, summary: 'continue a stopped, paused or interrupted run from its last checkpoint' },
  stop: { run: stopCommand, usage: stopUsage, summary: 'ask a running run to checkpoint and stop' },
  import: { run: importCommand, usage: importUsage, summary: 'make a run of a reference (PyTorch) log directory or .pt checkpoint' },
  'export-reference': { run: exportReferenceCommand, usage: exportReferenceUsage, summary: 'write a run as .pt files, image folder and launch.sh for the reference code on a cluster' },
  follow: { run: followCommand, usage: followUsage, summary: 'watch a reference run\'s log directory and add its progress and checkpoints as they appear' },
  serve: { run: serveCommand, usage: serveUsage, summary: 'the studio in a browser: web face on 127.0.0.1 with a token URL' },
};

export function mainUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return `iddpm — Improved DDPM studio\n\nUsage: iddpm <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'iddpm <command> --help' for its options.\n`;
}

export async function main(argv: string[]): Promise<number> {
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
    return await entry.run(rest);
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
    process.stderr.write(`iddpm ${command}: ${err.message}\n`);
    if (process.env.IDDPM_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
