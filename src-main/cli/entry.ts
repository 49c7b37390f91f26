/** Process entry of the CLI: runs main and exits with its status (tfjs timers would keep Node alive). */
import { main } from './main';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`iddpm: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
