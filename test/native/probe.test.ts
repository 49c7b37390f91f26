/**
 * The addon's CPU probe called for real: what it reports follows what the CPU has (AVX-512 numbers exactly when
 * /proc/cpuinfo lists avx512f), every measurement is a finite positive number or null, never a timing bound.
 */
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNative, type CpuProbe } from '../../src-main/engine/native/loadNative';

const addon = loadNative().addon;
const cpuFlags = existsSync('/proc/cpuinfo') ? new Set((readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/)) : null;

const positiveOrNull = (x: number | null) => x === null || (Number.isFinite(x) && x > 0);

describe.skipIf(!addon)('probeCpu', () => {
  let probe: CpuProbe;
  beforeAll(() => {
    expect(typeof addon!.probeCpu).toBe('function'); // this tree's build exports it
    probe = addon!.probeCpu!();
  });

  it('lists its fields and measures x86-64 cores only', () => {
    expect(Object.keys(probe).sort()).toEqual(['avx2FmaPerNs', 'avx512FmaPerNs', 'clockGHz', 'cpuAvx2', 'cpuAvx512f', 'fmaLatencyCycles', 'runs', 'x86']);
    expect(probe.x86).toBe(process.arch === 'x64');
  });

  it('agrees with the addon and /proc/cpuinfo about the instruction sets', () => {
    expect(probe.cpuAvx2).toBe(addon!.info().cpuAvx2);
    if (cpuFlags) {
      expect(probe.cpuAvx512f).toBe(cpuFlags.has('avx512f'));
      expect(probe.cpuAvx2).toBe(cpuFlags.has('avx2') && cpuFlags.has('fma'));
    }
  });

  it('gives a number for exactly what the core runs, and nulls for the rest', () => {
    for (const k of ['clockGHz', 'fmaLatencyCycles', 'avx2FmaPerNs', 'avx512FmaPerNs'] as const) expect(positiveOrNull(probe[k])).toBe(true);
    if (!probe.x86) {
      expect([probe.clockGHz, probe.fmaLatencyCycles, probe.avx2FmaPerNs, probe.avx512FmaPerNs]).toEqual([null, null, null, null]);
      return;
    }
    expect(probe.clockGHz).not.toBeNull();
    expect(probe.runs).toBeGreaterThan(1);
    expect(probe.fmaLatencyCycles !== null).toBe(probe.cpuAvx2);
    expect(probe.avx2FmaPerNs !== null).toBe(probe.cpuAvx2);
    expect(probe.avx512FmaPerNs !== null).toBe(probe.x86 && probe.cpuAvx512f);
  });
});
