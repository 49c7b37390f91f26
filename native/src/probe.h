// A short measurement of this core: its clock and its fp32 FMA throughput (for the benchmark's peak GFLOP/s).
#pragma once

namespace iddpm {

struct CpuProbe {
  // Whether this build has the x86 probes (false on a portable build: then every measurement below is < 0).
  bool x86 = false;
  // What the CPU and OS run (__builtin_cpu_supports).
  bool cpu_avx2_fma = false;
  bool cpu_avx512f = false;
  // Core clock in GHz from a dependent chain of integer adds (1 cycle each); < 0 when not measured.
  double clock_ghz = -1;
  // Latency of one vfmadd231ps in cycles (a dependent FMA chain timed against the same clock); < 0 when not measured.
  double fma_latency_cycles = -1;
  // One core's vector FMA instructions per ns with 12 independent accumulators; < 0 when not measured.
  double avx2_fma_per_ns = -1;    // 256-bit (8 fp32 lanes)
  double avx512_fma_per_ns = -1;  // 512-bit (16 fp32 lanes), only when cpu_avx512f
  // Timed runs per measurement; the best (fastest) one counts.
  int runs = 0;
};

// Runs on the calling thread for about 50 ms.
CpuProbe probe_cpu();

}  // namespace iddpm
