/**
 * Micro-benchmark of the ops' forward+backward on wasm: tf's plain ops and built-in gradients vs the fast ops
 * with their own gradients, each with the copy-free wasm kernels (wasmKernels.ts) and with tfjs's own kernels.
 *
 *   npx tsx bench/ops.ts            # wasm, 7 iterations
 *   npx tsx bench/ops.ts --quick    # 3 iterations
 *   npx tsx bench/ops.ts --cpu      # also the 3×3 conv on the cpu backend (plain takes ~1 min per step)
 *
 * Every iteration makes fresh weights (as a training step does after the optimizer update), so XNNPACK's
 * per-weight operator cache does not flatter anything. The four variants of a row run interleaved, one each per
 * iteration, after a warm-up; the table shows medians. Memory: tf.memory() counts a shared buffer once per
 * tensor, so it cannot show what the Identity fix saves; the wasm heap size after one ResBlock-like step,
 * measured in a fresh process per variant (the heap only grows), can.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src-main/engine/backend/selectBackend';
import { installWasmKernelFixes, restoreWasmKernels } from '../src-main/engine/backend/wasmKernels';
import * as ops from '../src-main/engine/ops';

const quick = process.argv.includes('--quick');
const withCpu = process.argv.includes('--cpu');
const ITERS = quick ? 3 : 7;

type Op = (...xs: tf.Tensor[]) => tf.Tensor;

/** One forward+backward: grads of Σ op(xs)·R with respect to every input; ms, or an error message. */
function once(make: () => tf.Tensor[], op: Op): number | string {
  const inputs = make();
  const r = tf.tidy(() => tf.randomNormal(tf.tidy(() => op(...inputs)).shape));
  try {
    const t0 = performance.now();
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), r)))(inputs);
    for (const g of grads) g.dataSync();
    const ms = performance.now() - t0;
    tf.dispose(grads);
    return ms;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  } finally {
    tf.dispose([...inputs, r]);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const fmt = (v: number | string) => (typeof v === 'number' ? v.toFixed(1) : 'n/a');
const notes = new Map<string, string[]>(); // error → rows

async function row(name: string, make: () => tf.Tensor[], plain: Op, fast: Op, iters = ITERS): Promise<void> {
  const variants: [string, boolean, Op][] = [
    ['plain', true, plain],
    ['fast', true, fast],
    ['plain/tfjs-kernels', false, plain],
    ['fast/tfjs-kernels', false, fast],
  ];
  const times = new Map<string, number[]>();
  const errors = new Map<string, string>();
  for (let i = 0; i <= iters; i++) {
    for (const [label, fixes, op] of variants) {
      if (errors.has(label)) continue;
      if (fixes) installWasmKernelFixes();
      else restoreWasmKernels();
      const t = once(make, op);
      if (typeof t === 'string') errors.set(label, t);
      else if (i > 0) times.set(label, [...(times.get(label) ?? []), t]); // i = 0 is the warm-up
    }
  }
  installWasmKernelFixes();
  const cells = variants.map(([label]) => {
    const err = errors.get(label);
    if (err) notes.set(err, [...new Set([...(notes.get(err) ?? []), name])]);
    return fmt(err ?? median(times.get(label)!)).padStart(10);
  });
  console.log(`${name.padEnd(48)}${cells.join('')}`);
}

const B = 8;
const conv = (impl: typeof ops.conv2dFast, s = 1, p: ops.Conv2dPadding = 'same'): Op => (x, w, b) =>
  impl(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, s, p);
const convIn = (ci: number, co: number, k: number, hw = 32) => () => [
  tf.randomNormal([B, hw, hw, ci]),
  tf.randomNormal([k, k, ci, co], 0, 0.05),
  tf.zeros([co]),
];
const pad1: ops.Conv2dPadding = [[1, 1], [1, 1]];

function resBlock(fast: boolean): Op {
  return (x, w1, w2, g, b) => {
    ops.setKernelMode(fast ? 'fast' : 'plain');
    try {
      const h1 = ops.conv2d(ops.groupNormSilu(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D), w1 as tf.Tensor4D, null, 1, 'same');
      const h2 = ops.conv2d(ops.groupNormSilu(h1, g as tf.Tensor1D, b as tf.Tensor1D), w2 as tf.Tensor4D, null, 1, 'same');
      return tf.add(x, h2);
    } finally {
      ops.setKernelMode('auto');
    }
  };
}

const heapArg = process.argv.find((a) => a.startsWith('--heap='));
if (heapArg) {
  // Child mode: one fwd+bwd of the ResBlock-like chain at batch 16, then print the wasm heap size in MB.
  const [, variant, kind] = /^--heap=(fixed|orig),(fast|plain)$/.exec(heapArg) ?? [];
  await selectBackend('wasm', { wasmKernelFixes: variant === 'fixed' });
  const inputs = [tf.randomNormal([16, 32, 32, 64]), tf.randomNormal([3, 3, 64, 64], 0, 0.05), tf.randomNormal([3, 3, 64, 64], 0, 0.05), tf.ones([64]), tf.zeros([64])];
  const t = once(() => inputs.map((x) => tf.clone(x)), resBlock(kind === 'fast'));
  const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length / 2 ** 20;
  console.log(JSON.stringify({ heapMB: heap, ms: t }));
  process.exit(0);
}

const report = await selectBackend('wasm');
console.log(`backend: ${report.reason}; median ms of ${ITERS} forward+backward (fresh weights each time)`);
console.log(`${''.padEnd(48)}${['plain', 'fast', 'plain*', 'fast*'].map((s) => s.padStart(10)).join('')}`);
console.log(`${''.padEnd(48)}${'(* = tfjs-backend-wasm\'s own Identity/Slice/SplitV/Unpack)'.padStart(40)}`);
await row('conv 3×3 [8,32,32,64]→64', convIn(64, 64, 3), conv(ops.conv2dPlain), conv(ops.conv2dFast));
await row('conv 3×3 [8,16,16,128]→128', convIn(128, 128, 3, 16), conv(ops.conv2dPlain), conv(ops.conv2dFast));
await row('conv 3×3 stride 2 [8,32,32,64]→64', convIn(64, 64, 3), conv(ops.conv2dPlain, 2, pad1), conv(ops.conv2dFast, 2, pad1));
await row('conv 1×1 [8,32,32,64]→128', convIn(64, 128, 1), conv(ops.conv2dPlain, 1, 'valid'), conv(ops.conv2dFast, 1, 'valid'));
await row(
  'dense [8,512]→512',
  () => [tf.randomNormal([B, 512]), tf.randomNormal([512, 512], 0, 0.05), tf.zeros([512])],
  (x, w, b) => ops.densePlain(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
  (x, w, b) => ops.denseFast(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
);
await row(
  'attention [8,256 (16×16),3·128] 4 heads',
  () => [tf.randomNormal([B, 256, 3 * 128])],
  (q) => ops.attentionCorePlain(q as tf.Tensor3D, 4),
  (q) => ops.attentionCoreFast(q as tf.Tensor3D, 4),
);
await row(
  'groupNorm+SiLU [8,32,32,64] 32 groups',
  () => [tf.randomNormal([B, 32, 32, 64]), tf.ones([64]), tf.zeros([64])],
  (x, g, b) => ops.groupNormSiluPlain(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D),
  (x, g, b) => ops.groupNormFast(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 32, 1e-5, true),
);
await row(
  'upsample ×2 [8,16,16,128]',
  () => [tf.randomNormal([B, 16, 16, 128])],
  (x) => ops.upsampleNearest2xPlain(x as tf.Tensor4D),
  (x) => ops.upsampleNearest2xFast(x as tf.Tensor4D),
);
await row(
  'ResBlock-like: (GN+SiLU → conv3)×2 + x, 32×32×64',
  () => [tf.randomNormal([B, 32, 32, 64]), tf.randomNormal([3, 3, 64, 64], 0, 0.05), tf.randomNormal([3, 3, 64, 64], 0, 0.05), tf.ones([64]), tf.zeros([64])],
  resBlock(false),
  resBlock(true),
);
for (const [err, names] of notes) console.log(`n/a = ${err}: ${names.join('; ')}`);

{
  const script = fileURLToPath(import.meta.url);
  const heap = (variant: string) => {
    const res = spawnSync(process.execPath, [...process.execArgv, script, `--heap=${variant}`], { encoding: 'utf8' });
    const line = res.stdout.split('\n').find((l) => l.startsWith('{'));
    return line ? (JSON.parse(line) as { heapMB: number }).heapMB.toFixed(0) : `? (${res.stderr.split('\n')[0]})`;
  };
  console.log(
    `wasm heap after one ResBlock-like fwd+bwd at batch 16: fast ops ${heap('fixed,fast')} MB with the copy-free kernels, ` +
      `${heap('orig,fast')} MB with tfjs's own`,
  );
}

// The plain row of a conv on wasm fails (no Conv2DBackpropFilter); its input gradient alone:
{
  const make = convIn(64, 64, 3);
  const t: number[] = [];
  for (let i = 0; i < Math.min(ITERS, 3) + 1; i++) {
    const [x, w, b] = make();
    const t0 = performance.now();
    const [dx] = tf.grads((a: tf.Tensor) => tf.sum(ops.conv2dPlain(a as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, 1, 'same')))([x]);
    dx.dataSync();
    if (i > 0) t.push(performance.now() - t0);
    tf.dispose([x, w, b, dx]);
  }
  console.log(`plain conv 3×3 [8,32,32,64]→64, forward + input gradient only (Conv2DBackpropInput): ${median(t).toFixed(1)} ms`);
}

if (withCpu) {
  await selectBackend('cpu');
  console.log('\ncpu backend, 3×3 conv [8,32,32,64]→64 forward+backward, 1 iteration:');
  for (const [label, op] of [['fast', conv(ops.conv2dFast)], ['plain', conv(ops.conv2dPlain)]] as const) {
    const t = once(convIn(64, 64, 3), op);
    console.log(`  ${label}: ${fmt(t)} ms`);
  }
}
