import { defineConfig } from 'vitest/config';
import type { Reporter } from 'vitest/node';

/** Ends the run with one plain line, `Tests: N passed, N failed[, N skipped]`, that any log reader can parse. */
const plainSummary: Reporter = {
  onTestRunEnd(testModules) {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' || state === 'failed' || state === 'skipped') count[state] += 1;
      }
      if (mod.state() === 'failed' && mod.errors().length > 0) count.failed += 1; // a file that failed to load
    }
    const skipped = count.skipped > 0 ? `, ${count.skipped} skipped` : '';
    process.stdout.write(`\nTests: ${count.passed} passed, ${count.failed} failed${skipped}\n`);
  },
};

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // tfjs on a CPU backend is slow; golden and training tests get room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', plainSummary],
  },
});
