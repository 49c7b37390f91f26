/**
 * The shared validator speaks in config paths and JSON (`training.lr`, `[16, 8]`, "write it without quotes"), which
 * suits a config file or the CLI. Beside a form field the same message reads in the form's words: the field's label,
 * lists as the field takes them ("16, 8"), and no advice about quotes the user never typed.
 */
import { FIELDS } from './fields';

const LABELS = new Map<string, string>(
  Object.entries(FIELDS).flatMap(([group, defs]) => Object.entries(defs).map(([key, def]) => [`${group}.${key}`, (def as { label: string }).label] as [string, string])),
);

export function labelOf(field: string): string {
  return LABELS.get(field) ?? field;
}

export function inFormWords(message: string): string {
  let m = message
    // A number field that holds text: the form keeps the text so the validator can name it; it was typed as is.
    .replace(/must be a number, not string ("(?:[^"\\]|\\.)*"): write it without quotes\./g, (_, json: string) => `must be a number; “${JSON.parse(json) as string}” is not one.`)
    .replace(/not string ("(?:[^"\\]|\\.)*")/g, (_, json: string) => `not “${JSON.parse(json) as string}”`)
    // The form fills every field itself.
    .replace(/ \(withDefaults fills every field\)/g, '')
    // List examples as the list fields take them: "1, 2, 2, 2", not "[1, 2, 2, 2]".
    .replace(/\[((?:-?[\d.e+-]+)(?:, ?-?[\d.e+-]+)*)\]/g, '$1');
  // Paths to labels, longest first so `model.numHeadsUpsample` is not read as `model.numHeads` + "Upsample".
  for (const [path, label] of [...LABELS].sort((a, b) => b[0].length - a[0].length)) {
    m = m.split(path).join(label);
  }
  return m.charAt(0).toUpperCase() + m.slice(1);
}
