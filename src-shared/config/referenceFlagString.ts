/**
 * Reference flags as people paste them: `--num_heads 4 --learn_sigma True` or `--image_size=64`, possibly
 * the whole `MODEL_FLAGS="…" DIFFUSION_FLAGS="…"` lines of the reference README or a `python
 * scripts/image_train.py $MODEL_FLAGS …` command. Values stay strings (argparse style); importReferenceFlags
 * reads them with the type of each flag.
 */

/** `{ flag: value }` from a flag string; throws naming the first word that is not `--flag value`. */
export function parseReferenceFlagString(text: string): Record<string, string> {
  const words = (text.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? []).flatMap((w) => {
    const unquoted = /^(["']).*\1$/.test(w) ? w.slice(1, -1) : w;
    // NAME_FLAGS="--a 1 --b 2" → its flags; other shell words (python, the script, $VARS) are skipped.
    const assignment = /^[A-Z_]+=(["']?)(.*)\1$/.exec(unquoted);
    if (assignment) return assignment[2].split(/\s+/).filter(Boolean).map((s) => s.replace(/^["']|["']$/g, ''));
    return [unquoted];
  });
  const flags: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!w.startsWith('--')) {
      if (/^(python\d*|mpiexec|mpirun|-n|\d+|\$\w+|\S+\.py)$/.test(w) || w.startsWith('$')) continue;
      throw new Error(`flags: expected --name value, got '${w}' (write e.g. --num_heads 4 --diffusion_steps 4000)`);
    }
    const eq = w.indexOf('=');
    if (eq > 2) {
      flags[w.slice(2, eq)] = w.slice(eq + 1);
      continue;
    }
    const value = words[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`flags: --${w.slice(2)} has no value (write --${w.slice(2)} VALUE)`);
    flags[w.slice(2)] = value;
    i++;
  }
  return flags;
}
