/**
 * `npm run bench -- --vs-reference [--only A8,B16] [--threads 1,2] [--steps 5] [--json]`: our training step and
 * sampling call beside the reference PyTorch UNet (../shared/reference/harness/bench.py), each config and thread
 * count in fresh child processes so the peak RSS is per config. Prints ours/reference ratios, GFLOP/s against
 * this machine's peak and the peak RSS of both sides.
 *
 * The pure parts (the peak from /proc/cpuinfo and the clock the native probe measured, the reference's config
 * table, the table, the message when PyTorch is missing) are exported for test/bench/vsReference.test.ts;
 * `runVsReference` does the processes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative, type CpuProbe } from '../src-main/engine/native/loadNative';
import type { TrainBenchConfig } from './train';

/** Our bench config → the reference harness's config name. */
export const REFERENCE_NAMES: Record<string, string> = { A8: 'a_3ch_b8', A32: 'a_3ch_b32', B16: 'b_3ch_b16' };

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
export const DEFAULT_HARNESS = path.resolve(ROOT, '..', 'shared', 'reference', 'harness', 'bench.py');
const PYTHON = '/usr/bin/python3';
/** Debian's OpenBLAS unpacked beside the system (reference README): a faster BLAS for PyTorch, used when present. */
export const OPENBLAS_DIR = '/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread';

// ---------------------------------------------------------------------------------------------------------------
// The machine's peak.

/** The peak of one instruction set. */
export interface SimdPeak {
  /** fp32 flops per cycle per core, e.g. 32 = 8 lanes × 2 FMA units × 2 with AVX2+FMA. */
  flopsPerCycle: number;
  /** How flopsPerCycle comes about. */
  simd: string;
  /** cores × flopsPerCycle × clock, GFLOP/s. */
  gflops: number;
  /** One core's peak, GFLOP/s (the peak at N threads is N × this, up to `cores`). */
  gflopsPerCore: number;
}

/** One core's FMA throughput as the native probe measured it (the sanity line under the peaks). */
export interface MeasuredFma {
  /** 256-bit FMAs: GFLOP/s (FMA/ns × 8 lanes × 2 flops) and FMA instructions per cycle of the clock. */
  avx2GflopsPerCore: number | null;
  avx2FmaPerCycle: number | null;
  /** 512-bit FMAs (16 lanes); null without AVX-512F. */
  avx512GflopsPerCore: number | null;
  avx512FmaPerCycle: number | null;
  fmaLatencyCycles: number | null;
  /** Timed runs per measurement (the fastest counts). */
  runs: number;
}

/** The machine's peak: the fields of SimdPeak are the issue's definition, cores × AVX2 FMA width × clock. */
export interface MachinePeak extends SimdPeak {
  /** Physical cores (distinct physical id/core id pairs), else logical CPUs. */
  cores: number;
  /** The clock the peaks use: the measured one when the probe ran, else the reported one. */
  mhz: number;
  /** Where it came from, e.g. "measured: …" or "/proc/cpuinfo cpu MHz (current clock)". */
  clockSource: string;
  /** What lscpu or /proc/cpuinfo report (null when nothing does), shown beside a measured clock. */
  reportedMhz: number | null;
  reportedClockSource: string | null;
  /** The AVX-512 peak (16 lanes) when the flags list avx512f, else null. */
  avx512: SimdPeak | null;
  /** Null when the probe did not run (no addon, a portable build). */
  measured: MeasuredFma | null;
}

/** The probe's clock method, for the table (native/src/probe.cc says why it is robust). */
const MEASURED_CLOCK = 'measured with a dependent chain of integer adds, 1 cycle each';

/**
 * Peak fp32 GFLOP/s: cores × SIMD width × FMA units × 2 × clock, from /proc/cpuinfo (cores and flags), and the clock
 * the native probe measured (`probe`, see CpuProbe); without a probe, the clock the machine reports: lscpu's "CPU max
 * MHz", else the nominal "@ x.xGHz" of the model name, else the highest "cpu MHz" line (on a VM usually the host's
 * nominal clock, below the turbo clock the cores run at).
 *
 * The AVX2 peak assumes two FMA ports per core (every AVX2 Intel core since Haswell, AMD since Zen 2). The AVX-512
 * peak assumes two 512-bit FMA units unless the probe shows zmm FMAs at about half the ymm rate (one unit, as on
 * Ice Lake client or Zen 4's double-pumped 256-bit units): a ratio of two throughputs measured alike, so load on the
 * machine does not sway it.
 */
export function machinePeak(cpuinfo: string, lscpu = '', probe: CpuProbe | null = null): MachinePeak {
  const blocks = cpuinfo.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  const field = (b: string, name: string) => b.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
  const coreIds = new Set<string>();
  for (const b of blocks) {
    const pid = field(b, 'physical id');
    const cid = field(b, 'core id');
    if (pid !== undefined && cid !== undefined) coreIds.add(`${pid}/${cid}`);
  }
  const cores = coreIds.size || blocks.length || 1;
  const flags = new Set((field(blocks[0] ?? '', 'flags') ?? '').split(/\s+/));
  let flopsPerCycle: number;
  let simd: string;
  if (flags.has('avx2') && flags.has('fma')) {
    flopsPerCycle = 8 * 2 * 2;
    simd = 'AVX2 FMA: 8 fp32 lanes × 2 FMA units × 2 flops';
  } else if (flags.has('avx')) {
    flopsPerCycle = 8 * 2;
    simd = 'AVX: 8 fp32 lanes × (1 add + 1 mul)';
  } else {
    flopsPerCycle = 4 * 2;
    simd = 'SSE: 4 fp32 lanes × (1 add + 1 mul)';
  }

  let reportedMhz: number | null = null;
  let reportedClockSource: string | null = null;
  const lsMax = lscpu.match(/^CPU max MHz:\s*([\d.]+)/m);
  if (lsMax && Number(lsMax[1]) > 0) {
    reportedMhz = Number(lsMax[1]);
    reportedClockSource = 'lscpu CPU max MHz';
  }
  const nominal = field(blocks[0] ?? '', 'model name')?.match(/@\s*([\d.]+)\s*GHz/i);
  if (!reportedMhz && nominal) {
    reportedMhz = Number(nominal[1]) * 1000;
    reportedClockSource = 'nominal clock in the /proc/cpuinfo model name';
  }
  if (!reportedMhz) {
    const cur = blocks.map((b) => Number(field(b, 'cpu MHz'))).filter((x) => x > 0);
    if (cur.length) {
      reportedMhz = Math.max(...cur);
      reportedClockSource = '/proc/cpuinfo cpu MHz (current clock)';
    }
  }
  const clockGHz = probe?.clockGHz ?? null;
  const mhz = clockGHz !== null ? clockGHz * 1000 : reportedMhz;
  if (!mhz) throw new Error('cannot tell the CPU clock: neither lscpu nor /proc/cpuinfo reports one, and the native probe did not measure it');
  const clockSource = clockGHz !== null ? `${MEASURED_CLOCK}, fastest of ${probe!.runs} runs` : reportedClockSource!;
  const ghz = mhz / 1000;

  const measured: MeasuredFma | null =
    probe && clockGHz !== null
      ? {
          avx2GflopsPerCore: probe.avx2FmaPerNs === null ? null : probe.avx2FmaPerNs * 8 * 2,
          avx2FmaPerCycle: probe.avx2FmaPerNs === null ? null : probe.avx2FmaPerNs / clockGHz,
          avx512GflopsPerCore: probe.avx512FmaPerNs === null ? null : probe.avx512FmaPerNs * 16 * 2,
          avx512FmaPerCycle: probe.avx512FmaPerNs === null ? null : probe.avx512FmaPerNs / clockGHz,
          fmaLatencyCycles: probe.fmaLatencyCycles,
          runs: probe.runs,
        }
      : null;

  let avx512: SimdPeak | null = null;
  if (flags.has('avx512f')) {
    const zmmOverYmm = probe?.avx512FmaPerNs && probe.avx2FmaPerNs ? probe.avx512FmaPerNs / probe.avx2FmaPerNs : null;
    const units = zmmOverYmm !== null && zmmOverYmm < 0.75 ? 1 : 2;
    const how = zmmOverYmm === null ? 'assumed' : `measured: zmm FMAs at ${zmmOverYmm.toFixed(2)}× the ymm rate`;
    const perCycle = 16 * units * 2;
    avx512 = {
      flopsPerCycle: perCycle,
      simd: `AVX-512 FMA: 16 fp32 lanes × ${units} FMA unit${units === 1 ? '' : 's'} (${how}) × 2 flops`,
      gflops: cores * perCycle * ghz,
      gflopsPerCore: perCycle * ghz,
    };
  }
  const gflopsPerCore = flopsPerCycle * ghz;
  return { cores, flopsPerCycle, simd, mhz, clockSource, reportedMhz, reportedClockSource, gflops: cores * gflopsPerCore, gflopsPerCore, avx512, measured };
}

// ---------------------------------------------------------------------------------------------------------------
// The reference harness and its configs.

export interface ReferenceConfig {
  name: string;
  inChannels: number;
  channels: number;
  numResBlocks: number;
  channelMult: number[];
  batch: number;
}

/** The CONFIGS table of bench.py: `("a_3ch_b8", 3, 32, 1, (1, 2, 2), 8),` lines. */
export function parseReferenceConfigs(benchPy: string): ReferenceConfig[] {
  const out: ReferenceConfig[] = [];
  const re = /\(\s*"([\w]+)"\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*\(([\d,\s]+)\)\s*,\s*(\d+)\s*\)/g;
  for (const m of benchPy.matchAll(re)) {
    out.push({
      name: m[1],
      inChannels: Number(m[2]),
      channels: Number(m[3]),
      numResBlocks: Number(m[4]),
      channelMult: m[5].split(',').map((s) => s.trim()).filter(Boolean).map(Number),
      batch: Number(m[6]),
    });
  }
  return out;
}

/** Differences between our bench config and the reference's (empty when they match); image channels are 3 on ours. */
export function configDifferences(ours: TrainBenchConfig, ref: ReferenceConfig | undefined): string[] {
  if (!ref) return [`the reference harness has no config ${REFERENCE_NAMES[ours.name] ?? '(none mapped)'}`];
  const diffs: string[] = [];
  if (ref.inChannels !== 3) diffs.push(`image channels: ours 3, reference ${ref.inChannels}`);
  if (ref.channels !== ours.channels) diffs.push(`channels: ours ${ours.channels}, reference ${ref.channels}`);
  if (ref.numResBlocks !== ours.numResBlocks) diffs.push(`res blocks: ours ${ours.numResBlocks}, reference ${ref.numResBlocks}`);
  if (ref.channelMult.join(',') !== ours.channelMult.join(',')) diffs.push(`channel mult: ours ${ours.channelMult.join(',')}, reference ${ref.channelMult.join(',')}`);
  if (ref.batch !== ours.batch) diffs.push(`batch: ours ${ours.batch}, reference ${ref.batch}`);
  if (ours.microbatch && ours.microbatch > 0 && ours.microbatch < ours.batch) {
    diffs.push(`microbatch: ours ${ours.microbatch} (two passes), reference one pass of ${ref.batch}`);
  }
  return diffs;
}

export interface ReferenceProbe {
  harness: string;
  harnessFound: boolean;
  python: string;
  pythonFound: boolean;
  /** `import torch` worked. */
  torch: boolean;
  torchVersion: string | null;
  openblas: boolean;
}

/** What to do when the reference cannot run; null when it can. */
export function referenceMissingMessage(p: ReferenceProbe): string | null {
  if (!p.harnessFound) {
    return `the reference harness is not at ${p.harness}: put the shared/ folder (with reference/harness/bench.py) beside this repository`;
  }
  if (!p.pythonFound || !p.torch) {
    return (
      `the reference needs PyTorch for ${p.python}${p.pythonFound ? ' (import torch failed)' : ' (not found)'}: ` +
      'install it with `apt-get update && apt-get install -y python3-torch python3-numpy`, and for a faster BLAS ' +
      '`cd /tmp && apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb /tmp/openblas` ' +
      '(see ../shared/reference/README.md); then run `npm run bench -- --vs-reference` again'
    );
  }
  return null;
}

export function openblasNote(p: ReferenceProbe): string {
  return p.openblas
    ? `reference BLAS: OpenBLAS from ${OPENBLAS_DIR} (LD_LIBRARY_PATH)`
    : `reference BLAS: the system's libblas (no ${OPENBLAS_DIR}; for OpenBLAS: cd /tmp && apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb /tmp/openblas)`;
}

// ---------------------------------------------------------------------------------------------------------------
// The table.

export interface SideResult {
  trainMs: number;
  sampleMs: number;
  maxRssMb: number;
}

export interface VsRow {
  config: string;
  threads: number;
  /** UNet flops of one training step (3 × forward × batch) and of one sampling call (forward × 64). */
  trainFlops: number;
  sampleFlops: number;
  ours: SideResult | null;
  reference: SideResult | null;
  /** Why a side has no numbers. */
  errors: string[];
}

const fmt = (x: number | null | undefined, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : null);
const gflops = (flops: number, ms: number | undefined) => (ms !== undefined && ms > 0 ? flops / (ms / 1000) / 1e9 : null);

/** GFLOP/s of one measurement and its % of the peaks; the AVX-512 ones are null when the CPU has no AVX-512. */
export interface Achieved {
  gflops: number;
  /** Of the AVX2 peak at the row's thread count / of the whole machine's AVX2 peak (the issue's definition). */
  pctOfThreadPeak: number;
  pctOfMachinePeak: number;
  pctOfThreadPeakAvx512: number | null;
  pctOfMachinePeakAvx512: number | null;
}

/** Ratios, GFLOP/s and % of peak of one row (for the table and --json). */
export function rowSummary(r: VsRow, peak: MachinePeak) {
  const threads = Math.min(r.threads, peak.cores);
  const threadPeak = peak.gflopsPerCore * threads;
  const threadPeakAvx512 = peak.avx512 ? peak.avx512.gflopsPerCore * threads : null;
  const g = (flops: number, ms: number | undefined): Achieved | null => {
    const v = gflops(flops, ms);
    if (v === null) return null;
    return {
      gflops: v,
      pctOfThreadPeak: (100 * v) / threadPeak,
      pctOfMachinePeak: (100 * v) / peak.gflops,
      pctOfThreadPeakAvx512: threadPeakAvx512 === null ? null : (100 * v) / threadPeakAvx512,
      pctOfMachinePeakAvx512: peak.avx512 ? (100 * v) / peak.avx512.gflops : null,
    };
  };
  return {
    trainRatio: ratio(r.ours?.trainMs, r.reference?.trainMs),
    sampleRatio: ratio(r.ours?.sampleMs, r.reference?.sampleMs),
    memoryRatio: ratio(r.ours?.maxRssMb, r.reference?.maxRssMb),
    oursTrain: g(r.trainFlops, r.ours?.trainMs),
    refTrain: g(r.trainFlops, r.reference?.trainMs),
    oursSample: g(r.sampleFlops, r.ours?.sampleMs),
    refSample: g(r.sampleFlops, r.reference?.sampleMs),
    threadPeak,
    threadPeakAvx512,
  };
}

/** The lines under the table that say how the peaks were computed, and what the probe measured. */
export function peakLines(peak: MachinePeak): string[] {
  const ghz = (mhz: number) => `${(mhz / 1000).toFixed(2)} GHz`;
  const reported = peak.reportedMhz !== null ? `${ghz(peak.reportedMhz)} (${peak.reportedClockSource})` : 'no clock';
  const out = [
    peak.measured
      ? `clock: ${ghz(peak.mhz)}, ${peak.clockSource}; the machine reports ${reported}.`
      : `clock: ${ghz(peak.mhz)} (${peak.clockSource}), as the machine reports it (not measured: no native probe).`,
    `peak: ${peak.cores} cores × ${peak.flopsPerCycle} flops/cycle (${peak.simd}) × ${ghz(peak.mhz)} = ` +
      `${peak.gflops.toFixed(1)} GFLOP/s (${peak.gflopsPerCore.toFixed(1)} per thread); %peak is of the peak at the row's thread count` +
      (peak.avx512 ? ', first against this AVX2 peak, then against the AVX-512 one.' : '.'),
  ];
  if (peak.avx512) {
    out.push(
      `AVX-512 peak: ${peak.cores} cores × ${peak.avx512.flopsPerCycle} flops/cycle (${peak.avx512.simd}) × ${ghz(peak.mhz)} = ` +
        `${peak.avx512.gflops.toFixed(1)} GFLOP/s (${peak.avx512.gflopsPerCore.toFixed(1)} per thread).`,
    );
  }
  const m = peak.measured;
  if (m) {
    const parts: string[] = [];
    if (m.avx2GflopsPerCore !== null) parts.push(`AVX2 ${m.avx2GflopsPerCore.toFixed(1)} GFLOP/s (${fmt(m.avx2FmaPerCycle, 2)} FMA/cycle)`);
    if (m.avx512GflopsPerCore !== null) parts.push(`AVX-512 ${m.avx512GflopsPerCore.toFixed(1)} GFLOP/s (${fmt(m.avx512FmaPerCycle, 2)} FMA/cycle)`);
    if (m.fmaLatencyCycles !== null) parts.push(`FMA latency ${m.fmaLatencyCycles.toFixed(2)} cycles`);
    if (parts.length) out.push(`measured FMA throughput of one core (12 independent accumulators, fastest of ${m.runs} runs): ${parts.join(', ')}.`);
  }
  return out;
}

export function formatTable(rows: VsRow[], peak: MachinePeak): string {
  const pctHead = peak.avx512 ? '(%peak AVX2/AVX-512)' : '(%peak)';
  const head = [
    'config', 'thr', 'train ours', 'train ref', 'ratio', `GFLOP/s ours ${pctHead}`, `GFLOP/s ref ${pctHead}`,
    'sample ours', 'sample ref', 'ratio', 'RSS ours MB', 'RSS ref MB', 'ratio',
  ];
  const lines: string[][] = [head];
  const gp = (x: Achieved | null) => {
    if (!x) return '—';
    const pct = `${x.pctOfThreadPeak.toFixed(0)}%${x.pctOfThreadPeakAvx512 === null ? '' : `/${x.pctOfThreadPeakAvx512.toFixed(0)}%`}`;
    return `${x.gflops.toFixed(1)} (${pct})`;
  };
  for (const r of rows) {
    const s = rowSummary(r, peak);
    lines.push([
      r.config, String(r.threads),
      `${fmt(r.ours?.trainMs)} ms`, `${fmt(r.reference?.trainMs)} ms`, `${fmt(s.trainRatio, 2)}×`,
      gp(s.oursTrain), gp(s.refTrain),
      `${fmt(r.ours?.sampleMs)} ms`, `${fmt(r.reference?.sampleMs)} ms`, `${fmt(s.sampleRatio, 2)}×`,
      fmt(r.ours?.maxRssMb), fmt(r.reference?.maxRssMb), `${fmt(s.memoryRatio, 2)}×`,
    ]);
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const out = lines.map((l) => l.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) for (const e of r.errors) out.push(`${r.config} at ${r.threads} thread(s): ${e}`);
  out.push(
    ...peakLines(peak),
    'ratio = ours / reference (≤ 1 means ours is faster or smaller). Reference train = its training step + its EMA update ' +
      '(ours includes the EMA); reference sample = one UNet call at batch 64, ours = one ancestral step at batch 64 ' +
      '(the UNet call plus the diffusion arithmetic). RSS = peak resident memory of the process running that one config.',
  );
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// The processes.

/** The native probe of this core (~50 ms, before any child runs), or why there is none. */
function probeCpu(): { probe: CpuProbe | null; reason: string } {
  const native = loadNative();
  if (!native.addon) return { probe: null, reason: `no native addon (${native.reason})` };
  if (!native.addon.probeCpu) return { probe: null, reason: 'the native addon predates probeCpu (rebuild with npm run build:native)' };
  const probe = native.addon.probeCpu();
  return probe.clockGHz === null ? { probe: null, reason: 'a portable build of the native addon (no x86-64 probes)' } : { probe, reason: '' };
}

export function probeReference(harness = DEFAULT_HARNESS): ReferenceProbe {
  const pythonFound = existsSync(PYTHON);
  let torch = false;
  let torchVersion: string | null = null;
  if (pythonFound) {
    const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
    torch = r.status === 0;
    torchVersion = torch ? r.stdout.trim() : null;
  }
  return { harness, harnessFound: existsSync(harness), python: PYTHON, pythonFound, torch, torchVersion, openblas: existsSync(OPENBLAS_DIR) };
}

function threadEnv(threads: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const t = String(threads);
  return { ...process.env, IDDPM_THREADS: t, OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t, MKL_NUM_THREADS: t, ...extra };
}

/** Ours: `bench/run.ts --only NAME --json` in a fresh Node process; it reports its own peak RSS. */
function runOurs(name: string, threads: number, steps: number): SideResult & { trainFlops: number; sampleFlops: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, 'run.ts'), '--only', name, '--json', '--steps', String(steps)], {
    cwd: ROOT,
    env: threadEnv(threads),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`our bench exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  const all = JSON.parse(line) as Record<string, { trainStepMsMedian: number; sampleCallMsMedian: number; maxRssMb: number; flopsPerStep: number; sampleFlops: number }>;
  const o = all[name];
  return { trainMs: o.trainStepMsMedian, sampleMs: o.sampleCallMsMedian, maxRssMb: o.maxRssMb, trainFlops: o.flopsPerStep, sampleFlops: o.sampleFlops };
}

/**
 * The reference: bench.py for one config in a child of a small Python wrapper that prints the child's peak RSS
 * (getrusage(RUSAGE_CHILDREN).ru_maxrss, KiB on Linux), so the wrapper's own memory is not counted.
 */
const RSS_WRAPPER = [
  'import json, resource, subprocess, sys',
  'r = subprocess.run(sys.argv[1:])',
  'print(json.dumps({"rc": r.returncode, "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))',
].join('\n');

function runReference(probe: ReferenceProbe, refName: string, threads: number, steps: number): SideResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'iddpm-vsref-'));
  try {
    const out = path.join(dir, 'ref.json');
    const extra: NodeJS.ProcessEnv = probe.openblas ? { LD_LIBRARY_PATH: [OPENBLAS_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : {};
    const r = spawnSync(
      PYTHON,
      ['-c', RSS_WRAPPER, PYTHON, probe.harness, '--threads', String(threads), '--only', refName, '--reps', String(steps), '--warmup', '1', '--out', out],
      { cwd: path.dirname(probe.harness), env: threadEnv(threads, extra), encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    let wrapped: { rc: number; maxrss_kb: number } | null = null;
    try {
      wrapped = JSON.parse(last);
    } catch {
      wrapped = null;
    }
    if (r.status !== 0 || !wrapped || wrapped.rc !== 0 || !existsSync(out)) {
      throw new Error(`the reference harness failed (${wrapped ? `exit ${wrapped.rc}` : r.status ?? r.signal}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { runs: { results: { train_step_ms_median: number; ema_update_ms_median: number; sample_fwd_ms_median: number }[] }[] };
    const res = doc.runs.at(-1)?.results[0];
    if (!res) throw new Error(`the reference harness wrote no result for ${refName}`);
    return { trainMs: res.train_step_ms_median + res.ema_update_ms_median, sampleMs: res.sample_fwd_ms_median, maxRssMb: wrapped.maxrss_kb / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface VsReferenceOptions {
  configs: TrainBenchConfig[];
  threads: number[];
  steps: number;
  json: boolean;
  write: (s: string) => void;
}

/** Runs both sides for every config and thread count; returns the exit code. */
export function runVsReference(o: VsReferenceOptions): number {
  const say = (s: string) => {
    if (!o.json) o.write(`${s}\n`);
  };
  const lscpu = spawnSync('lscpu', [], { encoding: 'utf8' });
  const cpu = probeCpu();
  if (!cpu.probe) say(`clock probe: not run — ${cpu.reason}; the peak uses the clock the machine reports`);
  const peak = machinePeak(readFileSync('/proc/cpuinfo', 'utf8'), lscpu.status === 0 ? lscpu.stdout : '', cpu.probe);
  const probe = probeReference();
  const missing = referenceMissingMessage(probe);
  const refConfigs = probe.harnessFound ? parseReferenceConfigs(readFileSync(probe.harness, 'utf8')) : [];
  if (missing) say(`reference: not run — ${missing}`);
  else say(`reference: ${probe.harness} with PyTorch ${probe.torchVersion}; ${openblasNote(probe)}`);
  const checks: Record<string, string[]> = {};
  for (const c of o.configs) {
    const diffs = configDifferences(c, refConfigs.find((r) => r.name === REFERENCE_NAMES[c.name]));
    checks[c.name] = diffs;
    if (probe.harnessFound) say(`${c.name} ↔ ${REFERENCE_NAMES[c.name]}: ${diffs.length ? `DIFFERENT: ${diffs.join('; ')}` : 'same UNet and batch'}`);
  }
  const rows: VsRow[] = [];
  for (const threads of o.threads) {
    for (const c of o.configs) {
      const row: VsRow = { config: c.name, threads, trainFlops: 0, sampleFlops: 0, ours: null, reference: null, errors: [] };
      try {
        const ours = runOurs(c.name, threads, o.steps);
        row.ours = { trainMs: ours.trainMs, sampleMs: ours.sampleMs, maxRssMb: ours.maxRssMb };
        row.trainFlops = ours.trainFlops;
        row.sampleFlops = ours.sampleFlops;
      } catch (err) {
        row.errors.push(`ours: ${(err as Error).message}`);
      }
      if (!missing) {
        try {
          row.reference = runReference(probe, REFERENCE_NAMES[c.name], threads, o.steps);
        } catch (err) {
          row.errors.push(`reference: ${(err as Error).message}`);
        }
      }
      rows.push(row);
      say(`  done ${c.name} at ${threads} thread(s)`);
    }
  }
  if (o.json) {
    o.write(
      `${JSON.stringify({
        peak,
        cpuProbe: cpu.probe,
        reference: { ...probe, missing },
        configChecks: checks,
        rows: rows.map((r) => ({ ...r, ...rowSummary(r, peak) })),
      })}\n`,
    );
  } else {
    o.write(`\n${formatTable(rows, peak)}\n`);
  }
  return rows.some((r) => r.errors.some((e) => e.startsWith('ours'))) ? 1 : 0;
}
