/**
 * Class labels of an image folder, the reference's way (image_datasets.py with class_cond): the class of a
 * file is its name before the first '_' ("cat_0001.png" → "cat"), classes numbered in sorted order.
 *
 * The reference applies the rule to every file whatever its name; here a folder has labels only when
 * every file name holds a '_' and there are 2 to 256 classes: a folder of "img0001.png" files would
 * otherwise get one class per file, which no classifier can learn. Without labels the studio offers NLL
 * only (no sample-quality metrics).
 */
export interface FolderLabels {
  /** Class index of each file, in the order of `files`. */
  readonly labels: Uint8Array;
  /** Class names by index (sorted). */
  readonly classNames: readonly string[];
}

/** Why a folder has no labels, or its labels; `files` are paths relative to the folder ('/' separated). */
export function folderLabels(files: readonly string[]): FolderLabels | { labels: null; reason: string } {
  const names: string[] = [];
  for (const f of files) {
    const base = f.slice(f.lastIndexOf('/') + 1);
    const cut = base.indexOf('_');
    if (cut <= 0) {
      return { labels: null, reason: `file ${f} has no class prefix (image folder labels come from the name before the first '_', e.g. cat_0001.png)` };
    }
    names.push(base.slice(0, cut));
  }
  const classNames = [...new Set(names)].sort();
  if (classNames.length < 2) return { labels: null, reason: `all files are of one class (${classNames[0] ?? 'none'})` };
  if (classNames.length > 256) return { labels: null, reason: `${classNames.length} classes by file-name prefix; at most 256 are supported` };
  const index = new Map(classNames.map((c, i) => [c, i]));
  return { labels: Uint8Array.from(names, (n) => index.get(n)!), classNames };
}
