/**
 * What the `iddpm` command says to a user who asks for help or gives bad input, as real child processes
 * on a temp data directory with a tiny run trained on a folder of 8 images (so its held-out split is one
 * image and a whole-split evaluation takes seconds).
 *
 * Whether a command loaded tfjs is read from a module-resolution hook (`node --import`) that writes every
 * resolved module URL to a file: a fact about the process, not a timing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../src-main/imageio/png';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin', 'iddpm.mjs');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'iddpm-cli-msg-'));
const data = path.join(tmp, 'data');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// A resolve hook that appends each resolved URL to $IDDPM_TEST_MODULES.
const hooks = path.join(tmp, 'hooks.mjs');
const recorder = path.join(tmp, 'record.mjs');
writeFileSync(
  hooks,
  `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.IDDPM_TEST_MODULES, r.url + '\\n');
  return r;
}
`,
);
writeFileSync(recorder, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);

let calls = 0;
function iddpm(...args: string[]) {
  const modulesFile = path.join(tmp, `modules-${calls++}.txt`);
  writeFileSync(modulesFile, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(recorder).href, bin, ...args], {
    encoding: 'utf8',
    // Run outside the project, as an installed `iddpm` would be: the training worker must still find tsx.
    cwd: tmp,
    timeout: 300_000,
    // IDDPM_DATA points at an empty folder: every command here must honour --data.
    env: { ...process.env, IDDPM_DATA: path.join(tmp, 'not-the-data'), IDDPM_TEST_MODULES: modulesFile },
  });
  const modules = readFileSync(modulesFile, 'utf8').split('\n').filter(Boolean);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules, loadedTfjs: modules.some((m) => m.includes('/@tensorflow/')) };
}

/** Usage errors exit 2 with one message on stderr that never shows a raw errno code. */
function refused(r: ReturnType<typeof iddpm>, ...patterns: RegExp[]) {
  expect(r.code, r.stderr).toBe(2);
  for (const p of patterns) expect(r.stderr).toMatch(p);
  expect(r.stderr).not.toMatch(/\bE[A-Z]{3,}\b/);
}

const LONG_NAME = 'digits with a rather long and descriptive name that goes on';
let checkpoint = '';
let trainedNll = '';

beforeAll(() => {
  const images = path.join(tmp, 'images');
  mkdirSync(images);
  for (let i = 0; i < 8; i++) {
    const pixels = Uint8Array.from({ length: 16 * 16 }, (_, j) => ((j * (i + 3)) % 17) * 15);
    writeFileSync(path.join(images, `img-${i}.png`), encodePng({ width: 16, height: 16, channels: 1, pixels }));
  }
  const r = iddpm(
    'train', '--preset', 'tiny-test', '--dataset', 'folder', '--dataset-path', images, '--steps', '2', '--eval-every', '2',
    '--preview-every', '0', '--data', data, '--run-id', 'small', '--name', LONG_NAME,
  );
  expect(r.code, r.stderr).toBe(0);
  trainedNll = /step 2: per-t VLB terms over 50 steps, NLL ([\d.]+) bits\/dim/.exec(r.stderr)?.[1] ?? '';
  expect(trainedNll).not.toBe('');
  checkpoint = path.join(data, 'runs', 'small', 'checkpoints', 'step-00000002.safetensors');
  expect(existsSync(checkpoint)).toBe(true);
}, 300_000);

describe('iddpm --help', () => {
  it('lists every command and the --data option without loading tfjs', () => {
    const r = iddpm('--help');
    expect(r.code).toBe(0);
    for (const c of ['train', 'sample', 'eval', 'runs', 'resume', 'stop', 'serve']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(r.stdout).toContain('--data DIR');
    // The hook saw the CLI itself load, so an empty tfjs list is evidence, not a broken recorder.
    expect(r.modules.some((m) => m.endsWith('/src-main/cli/main.ts'))).toBe(true);
    expect(r.loadedTfjs).toBe(false);
  });

  it.each([
    ['sample', ['--data', '--steps', '--sampler', '--out', '--batch']],
    ['eval', ['--data', '--images', '--csv']],
    ['train', ['--data', '--preset', '--lr', '--run-id']],
    ['runs', ['--data', '--json']],
    ['serve', ['--data', '--port']],
  ])('%s --help shows its options without loading tfjs', (command, flags) => {
    const r = iddpm(command, '--help');
    expect(r.code).toBe(0);
    for (const f of flags) expect(r.stdout).toMatch(new RegExp(`^  ${f} `, 'm'));
    expect(r.modules.some((m) => m.endsWith(`/src-main/cli/commands/${command}.ts`))).toBe(true);
    expect(r.loadedTfjs).toBe(false);
  });
});

describe('numbers on the command line', () => {
  it('refuses hex, exponent and fractional junk for whole numbers, naming the flag', () => {
    refused(iddpm('sample', checkpoint, '--steps', '0x10'), /--steps \(sampling steps/, /whole number in decimal digits/, /'0x10'/);
    refused(iddpm('sample', checkpoint, '--count', '1e3'), /--count/, /'1e3'/);
    refused(iddpm('train', '--preset', 'tiny-test', '--steps', '2.5', '--data', data), /--steps/, /'2\.5'/);
    refused(iddpm('serve', '--port', '0x50', '--data', data), /--port/, /e\.g\. 8080/);
    refused(iddpm('train', '--preset', 'tiny-test', '--channel-mult', '1,0x2', '--data', data), /each value of --channel-mult/, /'0x2'/);
  });

  it('accepts a rate in exponent notation but not hex or Infinity', () => {
    refused(iddpm('train', '--preset', 'tiny-test', '--lr', '0x1', '--data', data), /--lr \(learning rate\) must be a decimal number/);
    refused(iddpm('train', '--preset', 'tiny-test', '--lr', 'Infinity', '--data', data), /--lr/);
    // 2e-4 parses; the config validator then sees it (here: a channel count it refuses, so nothing trains).
    const r = iddpm('train', '--preset', 'tiny-test', '--lr', '2e-4', '--channels', '48', '--data', data, '--run-id', 'never');
    refused(r, /model\.channels/);
    expect(r.stderr).not.toMatch(/--lr/);
  });

  it('refuses out-of-range values with the bound and the fix', () => {
    refused(iddpm('sample', checkpoint, '--batch', '0'), /--batch \(images per network call\) must be a whole number ≥ 1, got 0/);
    refused(iddpm('sample', checkpoint, '--count', '20000'), /at most 10000/, /different --seed/);
    refused(iddpm('sample', checkpoint, '--seed', '-1'), /--seed/, /≥ 0/);
    refused(iddpm('sample', checkpoint, '--sampler', 'ddim', '--eta', '1.5'), /--eta/, /at most 1/);
    refused(iddpm('sample', checkpoint, '--backend', 'gpu'), /--backend must be one of auto, tensorflow-gpu/);
    refused(iddpm('serve', '--port', '70000', '--data', data), /--port/, /at most 65535/);
    refused(iddpm('train', '--preset', 'nope', '--data', data), /--preset must be one of .*mnist-quick/);
  });

  it('eval --images 0 names --images, not the dataset', () => {
    const r = iddpm('eval', checkpoint, '--images', '0');
    refused(r, /--images \(held-out images to evaluate\) must be a whole number ≥ 1, got 0/);
    expect(r.stderr).not.toMatch(/no held-out images/);
    expect(r.loadedTfjs).toBe(false);
  });
});

describe('sample and eval: --data, checkpoints and output paths', () => {
  it('take --data and a run id, meaning the run\'s newest checkpoint', () => {
    const out = path.join(tmp, 'by-run-id');
    const r = iddpm('sample', 'small', '--data', data, '--steps', '2', '--count', '2', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['grid.png', 'manifest.json', 'sample-0000.png', 'sample-0001.png']);
    expect(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')).checkpoint).toBe(checkpoint);
    // The positive control of the tfjs check above: sampling does load it.
    expect(r.loadedTfjs).toBe(true);
  });

  it('a missing checkpoint or run says what is wrong and how to find one, without an errno', () => {
    const missing = path.join(tmp, 'x', 'y.safetensors');
    refused(iddpm('sample', missing), new RegExp(`checkpoint file ${missing} does not exist`), /iddpm runs/);
    refused(iddpm('eval', 'nosuchrun', '--data', data), /'nosuchrun' is neither a checkpoint file nor a run in/, new RegExp(`iddpm runs --data ${data}`));
    // What the run-id rule refuses (here '..') is never looked up as a run folder: it can only be a file.
    refused(iddpm('eval', 'no..run', '--data', data), /checkpoint file .*no\.\.run does not exist/);
    refused(iddpm('eval', path.join(data, 'runs')), /is a folder, not a file/);
    refused(iddpm('train', '--config', path.join(tmp, 'nope.json'), '--data', data), /--config file .*nope\.json does not exist/);
  });

  it('sample --steps beyond T, or a DDIM count T does not allow, is refused before any image is drawn', () => {
    const out = path.join(tmp, 'too-many-steps');
    refused(iddpm('sample', checkpoint, '--steps', '500', '--out', out), /--steps 500 is more than this model's 50 diffusion steps \(T\): give at most 50/);
    // ceil(50/k) is 13 for k = 4 and 10 for k = 5: no stride gives 12.
    refused(iddpm('sample', checkpoint, '--sampler', 'ddim', '--steps', '12', '--out', out), /--steps 12 cannot be used with DDIM on T=50/, /the nearest that work are 10 and 13/);
    expect(existsSync(out)).toBe(false);
    refused(iddpm('sample', checkpoint, '--eta', '0.5'), /--eta is a DDIM setting: add --sampler ddim/);
    refused(iddpm('sample', checkpoint, '--ema', '0.5'), /--ema 0\.5: .* keeps EMA rates 0\.9/);
  });

  it('sample --out is checked before the model loads: not a file, not under a file, not over earlier samples', () => {
    const file = path.join(tmp, 'a-file.txt');
    writeFileSync(file, 'keep me');
    let r = iddpm('sample', checkpoint, '--out', file);
    refused(r, /--out .*a-file\.txt is a file, but a folder is needed here/);
    expect(r.loadedTfjs).toBe(false);
    r = iddpm('sample', checkpoint, '--out', path.join(file, 'sub'));
    refused(r, /a-file\.txt is a file, not a folder/);
    expect(r.loadedTfjs).toBe(false);
    const earlier = path.join(tmp, 'by-run-id');
    const before = readFileSync(path.join(earlier, 'grid.png'));
    r = iddpm('sample', checkpoint, '--out', earlier);
    refused(r, /already holds samples/, /give a new folder/);
    expect(r.loadedTfjs).toBe(false);
    expect(readFileSync(path.join(earlier, 'grid.png'))).toEqual(before);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('eval --csv must name a file in an existing folder', () => {
    refused(iddpm('eval', checkpoint, '--csv', tmp), /--csv .* is a folder, but a file name is needed here/);
    refused(iddpm('eval', checkpoint, '--csv', path.join(tmp, 'no', 'such', 'nll.csv')), /its folder .* does not exist: create it first/);
  });

  it('eval --images beyond the held-out split warns before it starts and says what it evaluated', () => {
    const csv = path.join(tmp, 'nll.csv');
    const r = iddpm('eval', 'small', '--data', data, '--images', '100000', '--csv', csv);
    expect(r.code, r.stderr).toBe(0);
    const early = r.stderr.indexOf('note: the held-out split has fewer than the 100000 images asked for');
    expect(early).toBeGreaterThanOrEqual(0);
    // The warning comes before the progress reaches its end.
    expect(early).toBeLessThan(r.stderr.indexOf('100%'));
    expect(r.stdout).toMatch(/NLL [\d.]+ bits\/dim on 1 held-out image \(/);
    expect(r.stderr).toMatch(/note: that is the whole held-out split \(1\); --images asked for 100000/);
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe('t,vb_bits_per_dim,eps_mse,xstart_mse');
  });
});

describe('iddpm runs', () => {
  it('shows the run name and the best NLL the store holds', () => {
    const r = iddpm('runs', '--data', data);
    expect(r.code, r.stderr).toBe(0);
    const [header, row] = r.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+STATUS\s+STEP\s+LOSS\s+BEST NLL\s+CHECKPOINT/);
    // Long names are cut to 28 characters so each run stays on one line.
    expect(row).toMatch(new RegExp(`^small\\s+${LONG_NAME.slice(0, 27)}…\\s+done\\s+2/2\\s+[\\d.]+\\s+`));
    expect(row).toContain(`${trainedNll} bits/dim`);
    expect(row).toMatch(/step 2$/);
    const json = JSON.parse(iddpm('runs', '--json', '--data', data).stdout);
    expect(json).toEqual([expect.objectContaining({ id: 'small', name: LONG_NAME, lastCheckpointStep: 2 })]);
    expect(json[0].bestBpd.toFixed(3)).toBe(trainedNll);
  });

  it('runs ID lists that run\'s checkpoint files', () => {
    const r = iddpm('runs', 'small', '--data', data);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(checkpoint);
    refused(iddpm('runs', 'ghost', '--data', data), /no run 'ghost'/);
  });

  it('a data directory that does not exist is reported, not created, and a file is not taken for one', () => {
    const empty = path.join(tmp, 'empty-data');
    const r = iddpm('runs', '--data', empty);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no runs in .*empty-data yet: start one with\s+iddpm train --preset mnist-quick --data/);
    for (const command of ['resume', 'stop']) {
      refused(iddpm(command, 'small', '--data', empty), /no run 'small': .*empty-data holds no studio data yet \(no studio\.db\); check --data DIR/);
    }
    expect(existsSync(empty)).toBe(false);
    const file = path.join(tmp, 'data-file');
    writeFileSync(file, 'not a folder');
    for (const args of [['runs'], ['resume', 'small'], ['stop', 'small'], ['train', '--preset', 'tiny-test']]) {
      refused(iddpm(...args, '--data', file), /--data .*data-file is a file/);
    }
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
  });
});

describe('a stray argument', () => {
  it('is refused rather than ignored', () => {
    refused(iddpm('sample', checkpoint, 'extra'), /takes CHECKPOINT only; remove 'extra'/);
    refused(iddpm('serve', 'now', '--data', data), /takes no positional arguments; remove 'now'/);
  });
});
