/**
 * `--name TEXT` of `iddpm train` and `iddpm study`: a display name, checked by the same rule as the API's
 * (src-shared/runId.ts) so the CLI refuses what the service would refuse, naming the flag.
 */
import { runNameProblem } from '../../src-shared/runId';
import { UsageError } from './args';

/** The --name option, or undefined when it was not given; throws a UsageError naming --name when it is bad. */
export function nameOption(options: Record<string, unknown>): string | undefined {
  if (options.name === undefined) return undefined;
  const name = String(options.name);
  const problem = runNameProblem(name);
  if (problem) throw new UsageError(`--name ${problem}`);
  return name;
}
