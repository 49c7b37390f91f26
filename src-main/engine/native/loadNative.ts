/**
 * Loads the native kernels (native/: a Node-API addon built by `npm install`'s postinstall, or
 * `npm run build:native`): multi-threaded AVX2/FMA GEMM, convolutions, attention and GroupNorm for the
 * 'wasm' and 'cpu' backends (see ../ops/native.ts for how the ops use them).
 *
 * Never throws: without the addon (no toolchain at install, IDDPM_NATIVE=0, a broken build) `addon` is null and
 * `reason` says why, and the ops run on tfjs's kernels. Loaded once per process; the result is cached.
 *
 * Environment: IDDPM_NATIVE=0 disables the addon; IDDPM_NATIVE_PATH points at another iddpm_native.node;
 * IDDPM_THREADS sets the thread count (default: the physical cores); IDDPM_NO_AVX2=1 forces the portable kernels;
 * IDDPM_NO_AVX512=1 the AVX2 ones on a CPU with AVX-512 (the same bits, slower).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeInfo {
  /** Threads the kernels run on (the caller's thread included). */
  threads: number;
  physicalCores: number;
  /** Whether the AVX2+FMA micro-kernels run (else the portable ones). */
  avx2: boolean;
  /** Whether the CPU has AVX2 and FMA. */
  cpuAvx2: boolean;
  /** Whether the AVX-512 kernels run (12×32 tiles; the same bits as AVX2). Absent in a build from before them. */
  avx512?: boolean;
  /** Whether the CPU has AVX-512F. */
  cpuAvx512?: boolean;
  /** The micro-kernel in use, e.g. "avx512 12x32", "avx2+fma 6x16" or "portable 6x16". */
  microKernel: string;
  /** Interface version of the addon; a mismatch means a stale build. */
  abi: number;
  /**
   * Pool runs so far on several threads / on the caller's thread alone. The pool times both per kind of work and
   * picks the faster (other processes can make threads a loss), so serialRuns grows on a busy machine.
   */
  parallelRuns: number;
  serialRuns: number;
}

/**
 * What `probeCpu()` measured on the calling thread's core (native/src/probe.cc, ~50 ms): the clock from a dependent
 * chain of integer adds (1 cycle each), the FMA latency timed against it, and the vector FMA throughput with 12
 * independent accumulators. Each is the fastest of `runs` short runs; null where not measured (a portable build,
 * or a CPU without that instruction set).
 */
export interface CpuProbe {
  /** Whether the build has the x86-64 probes; false on a portable build (then every number is null). */
  x86: boolean;
  /** What the CPU and OS run. */
  cpuAvx2: boolean;
  cpuAvx512f: boolean;
  clockGHz: number | null;
  /** Cycles per dependent vfmadd231ps (4 since Skylake and on Zen 3/4, 5 on Haswell and Zen 1/2). */
  fmaLatencyCycles: number | null;
  /** One core's 256-bit (8-lane) FMA instructions per ns; null without AVX2+FMA. */
  avx2FmaPerNs: number | null;
  /** One core's 512-bit (16-lane) FMA instructions per ns; null without AVX-512F. */
  avx512FmaPerNs: number | null;
  runs: number;
}

/** The addon's exports. Every array is a Float32Array of exactly the size the shapes imply (checked natively). */
export interface NativeAddon {
  info(): NativeInfo;
  setThreads(threads: number): number;
  setAvx2(on: boolean): boolean;
  /** Use the AVX-512 kernels (when the CPU has them) or the AVX2 ones; returns the state. Optional as adamwStep. */
  setAvx512?(on: boolean): boolean;
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean, bias?: Float32Array | null): void;
  sumRows(a: Float32Array, out: Float32Array, rows: number, cols: number): void;
  conv2dForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, ...dims: ConvDims): void;
  /** y = conv(x, w) + bias + residual in one pass (a ResBlock's output). Optional as adamwStep. */
  conv2dForwardAdd?(x: Float32Array, w: Float32Array, bias: Float32Array | null, residual: Float32Array, y: Float32Array, ...dims: ConvDims): void;
  conv2dInputGrad(dy: Float32Array, w: Float32Array, dx: Float32Array, ...dims: ConvDims): void;
  conv2dFilterGrad(x: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array | null, ...dims: ConvDims): void;
  attentionForward(qkv: Float32Array, out: Float32Array, weights: Float32Array, b: number, t: number, heads: number, d: number): void;
  attentionBackward(qkv: Float32Array, weights: Float32Array, dy: Float32Array, dqkv: Float32Array, b: number, t: number, heads: number, d: number): void;
  /** GroupNorm, then ·(1 + scale) + shift when they are given ([b, c] each), then SiLU when `silu`. */
  groupNormForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, rstd: Float32Array, b: number, hw: number, c: number, groups: number, eps: number, silu: boolean, scale?: Float32Array | null, shift?: Float32Array | null): void;
  /**
   * One AdamW update of the flat parameters (n = param.length) into fresh outputs, bit-identical to the tfjs ops of
   * train/adamw.ts; returns Σ grad² (summed in double, in a fixed order), read in the same pass (a build from
   * before that returns undefined). Optional: a build from before it lacks it, and then the optimizer runs on tfjs.
   */
  adamwStep?(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, paramOut: Float32Array, mOut: Float32Array, vOut: Float32Array, beta1: number, beta2: number, eps: number, decay: number, biasCorrection2Sqrt: number, stepSize: number): number | undefined;
  /** out = ema·rate + param·(1 − rate), bit-identical to train/ema.ts. Optional as adamwStep. */
  emaUpdate?(ema: Float32Array, param: Float32Array, out: Float32Array, rate: number): void;
  /** out[rows, ca+cb] = a[rows, ca] | b[rows, cb] (channel concatenation, NHWC). Optional as adamwStep. */
  concatChannels?(a: Float32Array, b: Float32Array, out: Float32Array, rows: number, ca: number, cb: number): void;
  /** The inverse of concatChannels (its gradient). Optional as adamwStep. */
  splitChannels?(x: Float32Array, a: Float32Array, b: Float32Array, rows: number, ca: number, cb: number): void;
  /** Measures this core's clock and FMA throughput (for the benchmark's peak). Optional as adamwStep. */
  probeCpu?(): CpuProbe;
  groupNormBackward(x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, rstd: Float32Array, dy: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, b: number, hw: number, c: number, groups: number, silu: boolean, scale?: Float32Array | null, shift?: Float32Array | null, dscale?: Float32Array | null, dshift?: Float32Array | null): void;
}

/** B, H, W, Ci, KH, KW, Co, stride, padTop, padLeft, Ho, Wo. */
export type ConvDims = [number, number, number, number, number, number, number, number, number, number, number, number];

export interface NativeStatus {
  addon: NativeAddon | null;
  /** Loaded: "2 threads, AVX2"; else why not, e.g. "not built (…)". */
  reason: string;
  /** The file loaded or tried, if any. */
  path: string | null;
}

const ABI = 2;
const FILE = path.join('native', 'build', 'Release', 'iddpm_native.node');
const REQUIRED: (keyof NativeAddon)[] = ['info', 'setThreads', 'matmul', 'sumRows', 'conv2dForward', 'conv2dInputGrad', 'conv2dFilterGrad', 'attentionForward', 'attentionBackward', 'groupNormForward', 'groupNormBackward'];

let cached: NativeStatus | undefined;

/** Where the addon may be: IDDPM_NATIVE_PATH, then native/build/Release under this file's ancestors and the cwd. */
export function nativeCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env.IDDPM_NATIVE_PATH) out.push(path.resolve(env.IDDPM_NATIVE_PATH));
  let dir: string | null = null;
  try {
    dir = path.dirname(fileURLToPath(import.meta.url));
  } catch {
    dir = null;
  }
  for (let i = 0; dir && i < 7; i++) {
    out.push(path.join(dir, FILE));
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  out.push(path.resolve(process.cwd(), FILE));
  return [...new Set(out)];
}

export function describeThreads(info: NativeInfo): string {
  const simd = info.avx512
    ? 'AVX-512'
    : info.avx2
      ? info.cpuAvx512
        ? 'AVX2 (AVX-512 off by IDDPM_NO_AVX512)'
        : 'AVX2'
      : info.cpuAvx2
        ? 'portable kernels (AVX2 off by IDDPM_NO_AVX2)'
        : 'portable kernels (no AVX2)';
  return `${info.threads} thread${info.threads === 1 ? '' : 's'}, ${simd}`;
}

/** Load (once per process) and return the addon, or null with the reason. A non-default `env` is never cached. */
export function loadNative(env: NodeJS.ProcessEnv = process.env): NativeStatus {
  if (env !== process.env) return tryLoad(env);
  cached ??= tryLoad(env);
  return cached;
}

function tryLoad(env: NodeJS.ProcessEnv): NativeStatus {
  const flag = env.IDDPM_NATIVE?.trim().toLowerCase();
  if (flag === '0' || flag === 'false' || flag === 'off') return { addon: null, reason: 'disabled by IDDPM_NATIVE=0', path: null };
  const file = nativeCandidates(env).find((p) => existsSync(p));
  if (!file) {
    return { addon: null, reason: 'not built (no native/build/Release/iddpm_native.node: run npm install or npm run build:native; needs a C++ compiler)', path: null };
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    return { addon: null, reason: `failed to load ${file}: ${msg} (rebuild with npm run build:native)`, path: file };
  }
  const missing = REQUIRED.filter((k) => typeof addon[k] !== 'function');
  let info: NativeInfo | null = null;
  try {
    info = missing.length ? null : addon.info();
  } catch {
    info = null;
  }
  if (!info || info.abi !== ABI) {
    return { addon: null, reason: `stale build at ${file} (rebuild with npm run build:native)`, path: file };
  }
  return { addon, reason: describeThreads(info), path: file };
}
