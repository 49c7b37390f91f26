/**
 * The Python that runs the reference code in tests: $IDDPM_PYTHON, else Debian's /usr/bin/python3 (where
 * apt's python3-torch lives; a pyenv python3 earlier on PATH usually lacks torch). Tests that need it skip
 * with the reason when it cannot import torch, numpy and PIL.
 */
import { spawnSync } from 'node:child_process';

export interface ReferencePython {
  python: string | null;
  /** Why tests that need it are skipped; null when it works. */
  skipReason: string | null;
}

let cached: ReferencePython | undefined;

export function referencePython(): ReferencePython {
  if (cached) return cached;
  const python = process.env.IDDPM_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(python, ['-c', 'import torch, numpy, PIL'], { encoding: 'utf8', timeout: 120_000 });
  cached =
    r.status === 0
      ? { python, skipReason: null }
      : { python: null, skipReason: `${python} cannot import torch, numpy and PIL (${(r.error?.message ?? r.stderr.trim().split('\n').at(-1)) || 'failed'}): install python3-torch python3-numpy python3-pil, or set IDDPM_PYTHON` };
  if (cached.skipReason) console.warn(`skipping the reference-code checks: ${cached.skipReason}`);
  return cached;
}
