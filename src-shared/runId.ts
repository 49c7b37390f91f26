/**
 * What a run may be called: one rule for its id and its display name, checked wherever they enter (the
 * API, the CLI, the store).
 *
 * A run id names the run's folder, `<data>/runs/<id>`, so it must never be able to name anything else:
 * '..' would make the run folder the data folder itself (and deleting the run would delete everything),
 * a '/' or '\' would reach into other folders, a leading '.' hides the folder and a leading '-' reads as
 * an option on a command line. Hence a small safe alphabet (letters, digits, '_', '-', and '.' inside),
 * no '..', no trailing '.' (Windows drops it, so two ids would share a folder), and a bounded length.
 */

export const RUN_ID_MAX_LENGTH = 64;
/** Display names are shown in lists and charts; a bound keeps a pasted megabyte out of the database. */
export const RUN_NAME_MAX_LENGTH = 200;

const RUN_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Why `id` cannot be a run id, in words that say the fix; null when it can. */
export function runIdProblem(id: unknown): string | null {
  if (typeof id !== 'string') return `must be a string such as 'mnist-01', got ${describe(id)}`;
  if (id.length === 0) return "must not be empty: use letters, digits, '-' or '_', e.g. 'mnist-01'";
  if (id.length > RUN_ID_MAX_LENGTH) return `is ${id.length} characters long: use at most ${RUN_ID_MAX_LENGTH}`;
  if (!RUN_ID_PATTERN.test(id) || id.includes('..') || id.endsWith('.')) {
    return `'${printable(id)}' is not allowed: use letters, digits, '-', '_' and '.' (not first, last or doubled), starting with a letter, digit or '_', e.g. 'mnist-01'`;
  }
  return null;
}

/** Why `name` cannot be a run's display name; null when it can. */
export function runNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `must be a string, got ${describe(name)}`;
  if (name.length > RUN_NAME_MAX_LENGTH) return `is ${name.length} characters long: use at most ${RUN_NAME_MAX_LENGTH}`;
  return null;
}

/** An id shortened and stripped of control characters, safe to quote in a message. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  return typeof v;
}
