import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TRAIN_CONFIGS } from '../../bench/train';
import {
  configDifferences,
  DEFAULT_HARNESS,
  formatTable,
  machinePeak,
  peakLines,
  parseReferenceConfigs,
  referenceMissingMessage,
  REFERENCE_NAMES,
  rowSummary,
  type ReferenceProbe,
  type VsRow,
} from '../../bench/vsReference';
import { loadNative, type CpuProbe } from '../../src-main/engine/native/loadNative';

/** Two cores of this project's machine, as /proc/cpuinfo lists them (trimmed). */
const CPUINFO_2CORE = [0, 1]
  .map(
    (i) => `processor\t: ${i}
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Processor
cpu MHz\t\t: 2600.000
physical id\t: 0
core id\t\t: ${i}
cpu cores\t: 2
flags\t\t: fpu sse sse2 avx fma avx2 avx512f
`,
  )
  .join('\n');

/** The same two cores without AVX-512 (an AVX2 machine). */
const CPUINFO_AVX2 = CPUINFO_2CORE.replaceAll(' avx2 avx512f\n', ' avx2\n');

describe('machinePeak', () => {
  it('is cores × 32 flops/cycle × the cpuinfo clock on an AVX2+FMA machine without lscpu max MHz', () => {
    const p = machinePeak(CPUINFO_2CORE, 'Model name: Intel(R) Xeon(R) Processor\n');
    expect(p.cores).toBe(2);
    expect(p.flopsPerCycle).toBe(32);
    expect(p.mhz).toBe(2600);
    expect(p.clockSource).toMatch(/cpu MHz/);
    expect(p.gflops).toBeCloseTo(2 * 32 * 2.6, 9); // 166.4
    expect(p.gflopsPerCore).toBeCloseTo(83.2, 9);
  });

  it('prefers lscpu max MHz, then the nominal clock of the model name', () => {
    expect(machinePeak(CPUINFO_2CORE, 'CPU max MHz:                     3500.0000\n').mhz).toBe(3500);
    const nominal = CPUINFO_2CORE.replaceAll('Intel(R) Xeon(R) Processor', 'Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz');
    const p = machinePeak(nominal);
    expect(p.mhz).toBe(3400);
    expect(p.clockSource).toMatch(/model name/);
  });

  it('counts hyperthreads once and drops to the AVX width without FMA', () => {
    const ht = [0, 1, 2, 3]
      .map((i) => `processor\t: ${i}\nphysical id\t: 0\ncore id\t\t: ${i % 2}\ncpu MHz\t\t: 2000.0\nflags\t\t: sse sse2 avx\n`)
      .join('\n');
    const p = machinePeak(ht);
    expect(p.cores).toBe(2);
    expect(p.flopsPerCycle).toBe(16);
    expect(p.gflops).toBeCloseTo(2 * 16 * 2, 9);
  });

  it('says so when nothing reports a clock', () => {
    expect(() => machinePeak('processor\t: 0\nflags\t\t: avx2 fma\n')).toThrow(/clock/);
  });

  it('reads this machine', () => {
    const p = machinePeak(readFileSync('/proc/cpuinfo', 'utf8'));
    expect(p.cores).toBeGreaterThan(0);
    expect(p.gflops).toBeGreaterThan(0);
  });

  it('adds an AVX-512 peak (16 lanes) exactly when the flags list avx512f', () => {
    const p = machinePeak(CPUINFO_2CORE);
    expect(p.avx512).not.toBeNull();
    expect(p.avx512!.flopsPerCycle).toBe(64);
    expect(p.avx512!.simd).toMatch(/16 fp32 lanes × 2 FMA units \(assumed\)/);
    expect(p.avx512!.gflops).toBeCloseTo(2 * 64 * 2.6, 9);
    expect(machinePeak(CPUINFO_AVX2).avx512).toBeNull();
    // a flag that merely starts with avx512 is not avx512f
    expect(machinePeak(CPUINFO_AVX2.replaceAll(' avx2\n', ' avx2 avx512_vnni\n')).avx512).toBeNull();
  });
});

describe('machinePeak with the native probe', () => {
  /** What the probe measured on this project's machine: 3.7 GHz turbo under a reported 2.6 GHz. */
  const PROBE: CpuProbe = { x86: true, cpuAvx2: true, cpuAvx512f: true, clockGHz: 3.7, fmaLatencyCycles: 4, avx2FmaPerNs: 7.3, avx512FmaPerNs: 6.9, runs: 31 };

  it('uses the measured clock and keeps the reported one beside it', () => {
    const p = machinePeak(CPUINFO_2CORE, '', PROBE);
    expect(p.mhz).toBeCloseTo(3700, 9);
    expect(p.clockSource).toMatch(/^measured with a dependent chain of integer adds.*fastest of 31 runs/);
    expect(p.reportedMhz).toBe(2600);
    expect(p.reportedClockSource).toMatch(/cpu MHz/);
    expect(p.flopsPerCycle).toBe(32);
    expect(p.gflops).toBeCloseTo(2 * 32 * 3.7, 9);
    expect(p.avx512!.gflops).toBeCloseTo(2 * 64 * 3.7, 9);
    expect(p.avx512!.simd).toMatch(/2 FMA units \(measured: zmm FMAs at 0\.95× the ymm rate\)/);
  });

  it('turns the measured FMA rates into GFLOP/s per core and FMAs per cycle', () => {
    const m = machinePeak(CPUINFO_2CORE, '', PROBE).measured!;
    expect(m.avx2GflopsPerCore).toBeCloseTo(7.3 * 16, 9);
    expect(m.avx2FmaPerCycle).toBeCloseTo(7.3 / 3.7, 9);
    expect(m.avx512GflopsPerCore).toBeCloseTo(6.9 * 32, 9);
    expect(m.avx512FmaPerCycle).toBeCloseTo(6.9 / 3.7, 9);
    expect(m.fmaLatencyCycles).toBe(4);
  });

  it('counts one 512-bit FMA unit when zmm FMAs run at half the ymm rate (Zen 4, Ice Lake client)', () => {
    const p = machinePeak(CPUINFO_2CORE, '', { ...PROBE, avx512FmaPerNs: 3.7 });
    expect(p.avx512!.flopsPerCycle).toBe(32);
    expect(p.avx512!.simd).toMatch(/16 fp32 lanes × 1 FMA unit \(measured: zmm FMAs at 0\.51×/);
  });

  it('needs no reported clock when the probe measured one', () => {
    const p = machinePeak('processor\t: 0\nflags\t\t: avx2 fma\n', '', PROBE);
    expect(p.mhz).toBeCloseTo(3700, 9);
    expect(p.reportedMhz).toBeNull();
    expect(peakLines(p)[0]).toContain('the machine reports no clock');
  });

  it('falls back to the reported clock when the build measured nothing (portable)', () => {
    const portable: CpuProbe = { x86: false, cpuAvx2: false, cpuAvx512f: false, clockGHz: null, fmaLatencyCycles: null, avx2FmaPerNs: null, avx512FmaPerNs: null, runs: 0 };
    const p = machinePeak(CPUINFO_2CORE, '', portable);
    expect(p.mhz).toBe(2600);
    expect(p.clockSource).toMatch(/cpu MHz/);
    expect(p.measured).toBeNull();
    expect(peakLines(p)[0]).toMatch(/not measured/);
  });

  const native = loadNative().addon;
  it.skipIf(!native?.probeCpu || !existsSync('/proc/cpuinfo'))('reads this machine with the real probe', () => {
    const probe = native!.probeCpu!();
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const p = machinePeak(cpuinfo, '', probe);
    const hasAvx512f = /^flags\s*:.*\bavx512f\b/m.test(cpuinfo);
    expect(p.avx512 !== null).toBe(hasAvx512f);
    if (probe.clockGHz === null) return;
    expect(p.mhz).toBe(probe.clockGHz * 1000);
    expect(p.gflopsPerCore).toBeCloseTo(p.flopsPerCycle * probe.clockGHz, 9);
    expect(p.measured!.avx2GflopsPerCore).toBe(probe.avx2FmaPerNs === null ? null : probe.avx2FmaPerNs * 16);
    expect(p.measured!.avx512GflopsPerCore !== null).toBe(hasAvx512f);
    const lines = peakLines(p);
    expect(lines[0]).toMatch(/^clock: \d+\.\d\d GHz, measured with a dependent chain of integer adds/);
    expect(lines.some((l) => l.startsWith('AVX-512 peak:'))).toBe(hasAvx512f);
    expect(lines.at(-1)).toMatch(/^measured FMA throughput of one core/);
  });
});

describe('the reference configs', () => {
  const BENCH_PY = `CONFIGS = [\n    ("a_3ch_b8", 3, 32, 1, (1, 2, 2), 8),\n    ("a_3ch_b32", 3, 32, 1, (1, 2, 2), 32),\n    ("b_3ch_b16", 3, 64, 2, (1, 2, 2, 2), 16),\n]`;

  it('parses the CONFIGS table of bench.py', () => {
    expect(parseReferenceConfigs(BENCH_PY)).toEqual([
      { name: 'a_3ch_b8', inChannels: 3, channels: 32, numResBlocks: 1, channelMult: [1, 2, 2], batch: 8 },
      { name: 'a_3ch_b32', inChannels: 3, channels: 32, numResBlocks: 1, channelMult: [1, 2, 2], batch: 32 },
      { name: 'b_3ch_b16', inChannels: 3, channels: 64, numResBlocks: 2, channelMult: [1, 2, 2, 2], batch: 16 },
    ]);
  });

  it('names every difference from our bench configs', () => {
    const refs = parseReferenceConfigs(BENCH_PY);
    const a8 = TRAIN_CONFIGS.find((c) => c.name === 'A8')!;
    expect(configDifferences(a8, refs.find((r) => r.name === 'a_3ch_b8'))).toEqual([]);
    expect(configDifferences({ ...a8, channels: 48, batch: 4 }, refs[0])).toEqual(['channels: ours 48, reference 32', 'batch: ours 4, reference 8']);
    expect(configDifferences(a8, undefined)[0]).toMatch(/no config a_3ch_b8/);
  });

  it.skipIf(!existsSync(DEFAULT_HARNESS))('matches the shared harness: same UNets and batches, one pass per batch as the reference', () => {
    const refs = parseReferenceConfigs(readFileSync(DEFAULT_HARNESS, 'utf8'));
    for (const c of TRAIN_CONFIGS) {
      const diffs = configDifferences(c, refs.find((r) => r.name === REFERENCE_NAMES[c.name]));
      expect(diffs).toEqual([]);
    }
  });
});

describe('referenceMissingMessage', () => {
  const ok: ReferenceProbe = { harness: '/x/bench.py', harnessFound: true, python: '/usr/bin/python3', pythonFound: true, torch: true, torchVersion: '1.13', openblas: false };

  it('is null when the reference can run', () => {
    expect(referenceMissingMessage(ok)).toBeNull();
  });

  it('says how to install PyTorch and OpenBLAS when torch is missing', () => {
    const m = referenceMissingMessage({ ...ok, torch: false, torchVersion: null })!;
    expect(m).toContain('apt-get install -y python3-torch');
    expect(m).toContain('apt-get download libopenblas0-pthread');
    expect(m).toContain('import torch failed');
  });

  it('names the missing harness', () => {
    expect(referenceMissingMessage({ ...ok, harnessFound: false })).toMatch(/not at \/x\/bench\.py/);
  });
});

describe('formatTable', () => {
  const peak = machinePeak(CPUINFO_2CORE);
  const row: VsRow = {
    config: 'A8',
    threads: 1,
    trainFlops: 8.32e9, // 83.2 GFLOP/s at 100 ms = one core's peak
    sampleFlops: 4.16e9,
    ours: { trainMs: 100, sampleMs: 200, maxRssMb: 300 },
    reference: { trainMs: 200, sampleMs: 100, maxRssMb: 600 },
    errors: [],
  };

  it('gives ours/reference ratios and % of the peak at the row thread count', () => {
    const s = rowSummary(row, peak);
    expect(s.trainRatio).toBe(0.5);
    expect(s.sampleRatio).toBe(2);
    expect(s.memoryRatio).toBe(0.5);
    expect(s.oursTrain!.pctOfThreadPeak).toBeCloseTo(100, 9);
    expect(s.oursTrain!.pctOfMachinePeak).toBeCloseTo(50, 9);
    expect(rowSummary({ ...row, threads: 2 }, peak).oursTrain!.pctOfThreadPeak).toBeCloseTo(50, 9);
  });

  it('gives the % of the AVX-512 peak beside the AVX2 one, and nulls without AVX-512', () => {
    const s = rowSummary(row, peak);
    expect(s.threadPeakAvx512).toBeCloseTo(166.4, 9);
    expect(s.oursTrain!.pctOfThreadPeakAvx512).toBeCloseTo(50, 9);
    expect(s.oursTrain!.pctOfMachinePeakAvx512).toBeCloseTo(25, 9);
    const plain = rowSummary(row, machinePeak(CPUINFO_AVX2));
    expect(plain.threadPeakAvx512).toBeNull();
    expect(plain.oursTrain!.pctOfThreadPeak).toBeCloseTo(100, 9);
    expect(plain.oursTrain!.pctOfThreadPeakAvx512).toBeNull();
  });

  it('prints one % per side without AVX-512', () => {
    const lines = formatTable([row], machinePeak(CPUINFO_AVX2)).split('\n');
    expect(lines[0]).toMatch(/GFLOP\/s ours \(%peak\)\s+GFLOP\/s ref \(%peak\)/);
    expect(lines[2]).toMatch(/\s83\.2 \(100%\)\s+41\.6 \(50%\)\s/);
    expect(lines.some((l) => l.startsWith('AVX-512 peak'))).toBe(false);
  });

  it('prints one line per row with the ratios, and the errors and the clock used', () => {
    const text = formatTable([row, { ...row, threads: 2, reference: null, errors: ['reference: the reference harness failed (exit 1)'] }], peak);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^config\s+thr\s+train ours.*GFLOP\/s ours \(%peak AVX2\/AVX-512\)/);
    expect(lines[2]).toMatch(/^A8\s+1\s+100 ms\s+200 ms\s+0\.50×\s+83\.2 \(100%\/50%\)\s+41\.6 \(50%\/25%\)\s+200 ms\s+100 ms\s+2\.00×\s+300\s+600\s+0\.50×$/);
    expect(lines[3]).toMatch(/^A8\s+2\s+100 ms\s+— ms\s+—×/);
    expect(text).toContain('A8 at 2 thread(s): reference: the reference harness failed (exit 1)');
    expect(text).toContain('2 cores × 32 flops/cycle');
    expect(text).toContain('/proc/cpuinfo cpu MHz (current clock)');
    expect(text).toContain('not measured: no native probe');
    expect(text).toContain('AVX-512 peak: 2 cores × 64 flops/cycle');
    // every data line has the header's width of columns
    const width = lines[0].length;
    expect(lines[2].length).toBe(width);
  });
});
