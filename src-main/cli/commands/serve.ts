/**
 * `iddpm serve`: the web face. Opens the run service on a data directory, serves the built renderer and
 * the StudioApi (WebSocket) on 127.0.0.1 behind a random token, prints the URL to open, and runs until
 * SIGINT/SIGTERM, then closes the server and the service cleanly.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expectPositional, helpText, parseArgs, UsageError, type OptionSpec } from '../args';
import { DATA_OPTION, dataDirOf } from '../dataDir';
import { checkOutputFolder } from '../pathChecks';

const OPTIONS: Record<string, OptionSpec> = {
  port: { type: 'integer', min: 0, max: 65535, example: '8080', description: 'port on 127.0.0.1 (default 0: a free port)' },
  ...DATA_OPTION,
  help: { type: 'boolean', description: 'show this help' },
};

export const serveUsage = helpText('iddpm serve [options]', OPTIONS);

/** The built renderer, from the repository root (this file is src-main/cli/commands/serve.ts). */
export function rendererDir(): string {
  return path.resolve(import.meta.dirname, '..', '..', '..', 'out', 'renderer');
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (options.help) {
    process.stdout.write(serveUsage);
    return 0;
  }
  expectPositional(positional, [], serveUsage);
  const port = (options.port as number | undefined) ?? 0;
  const renderer = rendererDir();
  if (!existsSync(path.join(renderer, 'index.html'))) {
    throw new Error(`the renderer is not built (no ${path.join(renderer, 'index.html')}): run \`npm run build\` first`);
  }
  const dataDir = dataDirOf(options);
  checkOutputFolder(dataDir, '--data');

  const { createRunService } = await import('../../runs/runService');
  const { startServer } = await import('../../server/server');
  const service = await createRunService({ dataDir, face: 'web' });
  let server;
  try {
    server = await startServer({ backend: service, port, host: '127.0.0.1', rendererDir: renderer });
  } catch (e) {
    await service.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use on 127.0.0.1: pick another with --port N (or 0 for any free port)`);
    throw e;
  }
  process.stderr.write(`iddpm serve: data directory ${dataDir}\n`);
  process.stdout.write(`iddpm serve: open ${server.url}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stderr.write(`iddpm serve: ${signal}, shutting down\n`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  await service.close();
  process.stderr.write('iddpm serve: closed\n');
  return 0;
}
