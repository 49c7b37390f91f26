// The CPU probe behind the benchmark's peak GFLOP/s: the clock this core really runs at and its FMA throughput.
//
// Why measure: a VM (this project's machine included) reports only a nominal clock in /proc/cpuinfo and lscpu
// (2.6 GHz here) while the cores run at their turbo clock (~3.7 GHz here), so a peak from the reported clock is
// too low and a well-tuned reference can reach "121% of peak".
//
// The clock: a dependent chain of `add reg, reg` on general-purpose registers. Its latency is 1 cycle on every x86
// core since the P6 (Intel and AMD alike), none can run two dependent adds in one cycle, and unlike an add of an
// immediate it is not folded away by the renamer (Golden Cove does that for small immediates). The loop counter runs
// on other ports beside the chain, so the chain's length in adds / its time = cycles per ns. Each run is short
// (~0.3 ms) and the fastest of many counts: load on the machine (other processes, a VM's stolen time) only makes a
// run slower, never faster, so the best run is the unloaded clock. A warm-up of 20 ms lets the core reach its turbo
// clock first.
//
// The FMA latency (a dependent vfmadd231ps chain timed against that clock: 4 cycles since Skylake and on Zen 3/4, 5
// on Haswell/Broadwell/Zen 1-2) comes out as a cross-check of the clock. The throughput: 12 independent
// accumulators of vfmadd231ps (more than latency × 2 FMA units = 8 to 10), ymm for AVX2 and zmm for AVX-512; on a
// core whose AVX-512 clock is lower (Skylake-SP licences) the zmm throughput shows it.
#include "probe.h"

#include <chrono>

#include "common.h"

#if IDDPM_X86 && defined(__x86_64__)
#define IDDPM_PROBE 1
#include <immintrin.h>
#else
#define IDDPM_PROBE 0
#endif

namespace iddpm {

#if IDDPM_PROBE
namespace {

constexpr int kRuns = 31;
constexpr long kAddIters = 16384;    // × 64 adds ≈ 0.3 ms at 3.7 GHz
constexpr long kChainIters = 4096;   // × 32 dependent FMAs
constexpr long kThroughputIters = 65536;  // × 48 FMAs ≈ 0.4 ms at 7 FMA/ns

double now_ns() {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

volatile unsigned long g_sink_int;
volatile float g_sink_float;

#define IDDPM_ADD8 \
  "add %[inc], %[x]\n\t" "add %[inc], %[x]\n\t" "add %[inc], %[x]\n\t" "add %[inc], %[x]\n\t" \
  "add %[inc], %[x]\n\t" "add %[inc], %[x]\n\t" "add %[inc], %[x]\n\t" "add %[inc], %[x]\n\t"

// 64 dependent adds per iteration.
__attribute__((noinline)) void add_chain(long iters) {
  unsigned long x = 1, inc = 3;
  for (long i = 0; i < iters; i++) {
    asm volatile(IDDPM_ADD8 IDDPM_ADD8 IDDPM_ADD8 IDDPM_ADD8 IDDPM_ADD8 IDDPM_ADD8 IDDPM_ADD8 IDDPM_ADD8
                 : [x] "+r"(x)
                 : [inc] "r"(inc));
  }
  g_sink_int = x;
}

#define IDDPM_FMA1 "vfmadd231ps %[a], %[b], %[x]\n\t"
#define IDDPM_FMA8 IDDPM_FMA1 IDDPM_FMA1 IDDPM_FMA1 IDDPM_FMA1 IDDPM_FMA1 IDDPM_FMA1 IDDPM_FMA1 IDDPM_FMA1

// 32 dependent FMAs per iteration (x += a·b, normal floats throughout: no denormal assists).
IDDPM_AVX2_TARGET __attribute__((noinline)) void fma_chain(long iters) {
  __m128 x = _mm_set1_ps(0.f), a = _mm_set1_ps(1.f), b = _mm_set1_ps(1e-7f);
  for (long i = 0; i < iters; i++) {
    asm volatile(IDDPM_FMA8 IDDPM_FMA8 IDDPM_FMA8 IDDPM_FMA8 : [x] "+x"(x) : [a] "x"(a), [b] "x"(b));
  }
  g_sink_float = _mm_cvtss_f32(x);
}

// 12 independent accumulators %0..%11 += %12 · %13.
#define IDDPM_FMA12                                                                                       \
  "vfmadd231ps %12, %13, %0\n\t" "vfmadd231ps %12, %13, %1\n\t" "vfmadd231ps %12, %13, %2\n\t"            \
  "vfmadd231ps %12, %13, %3\n\t" "vfmadd231ps %12, %13, %4\n\t" "vfmadd231ps %12, %13, %5\n\t"            \
  "vfmadd231ps %12, %13, %6\n\t" "vfmadd231ps %12, %13, %7\n\t" "vfmadd231ps %12, %13, %8\n\t"            \
  "vfmadd231ps %12, %13, %9\n\t" "vfmadd231ps %12, %13, %10\n\t" "vfmadd231ps %12, %13, %11\n\t"

// 48 FMAs per iteration on ymm registers.
IDDPM_AVX2_TARGET __attribute__((noinline)) void fma_ymm(long iters) {
  const __m256 a = _mm256_set1_ps(1.f), b = _mm256_set1_ps(1e-7f);
  __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0,
         c10 = c0, c11 = c0;
  for (long i = 0; i < iters; i++) {
    asm volatile(IDDPM_FMA12 IDDPM_FMA12 IDDPM_FMA12 IDDPM_FMA12
                 : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5), "+x"(c6), "+x"(c7), "+x"(c8),
                   "+x"(c9), "+x"(c10), "+x"(c11)
                 : "x"(a), "x"(b));
  }
  const __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                                 _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
  g_sink_float = _mm256_cvtss_f32(_mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11))));
}

// 48 FMAs per iteration on zmm registers.
__attribute__((target("avx512f"), noinline)) void fma_zmm(long iters) {
  const __m512 a = _mm512_set1_ps(1.f), b = _mm512_set1_ps(1e-7f);
  __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0,
         c10 = c0, c11 = c0;
  for (long i = 0; i < iters; i++) {
    asm volatile(IDDPM_FMA12 IDDPM_FMA12 IDDPM_FMA12 IDDPM_FMA12
                 : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5), "+v"(c6), "+v"(c7), "+v"(c8),
                   "+v"(c9), "+v"(c10), "+v"(c11)
                 : "v"(a), "v"(b));
  }
  const __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                                 _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
  g_sink_float = _mm512_cvtss_f32(_mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11))));
}

// The time of one run of `fn(iters)`, in ns.
template <typename Fn>
double time_once(Fn fn, long iters) {
  const double t0 = now_ns();
  fn(iters);
  return now_ns() - t0;
}

}  // namespace

CpuProbe probe_cpu() {
  CpuProbe p;
  p.x86 = true;
  p.cpu_avx2_fma = cpu_has_avx2_fma();
  __builtin_cpu_init();
  p.cpu_avx512f = __builtin_cpu_supports("avx512f");
  p.runs = kRuns;

  // Warm-up: let the core leave its idle clock.
  const double warm_until = now_ns() + 20e6;
  while (now_ns() < warm_until) add_chain(kAddIters / 16);

  // Clock and FMA latency, interleaved so that both see the same conditions.
  double best_add = 1e300, best_chain = 1e300;
  for (int r = 0; r < kRuns; r++) {
    const double t = time_once(add_chain, kAddIters);
    if (t < best_add) best_add = t;
    if (p.cpu_avx2_fma) {
      const double c = time_once(fma_chain, kChainIters);
      if (c < best_chain) best_chain = c;
    }
  }
  p.clock_ghz = (double)kAddIters * 64 / best_add;
  if (p.cpu_avx2_fma) p.fma_latency_cycles = best_chain / ((double)kChainIters * 32) * p.clock_ghz;

  if (p.cpu_avx2_fma) {
    double best = 1e300;
    for (int r = 0; r < kRuns; r++) {
      const double t = time_once(fma_ymm, kThroughputIters);
      if (t < best) best = t;
    }
    p.avx2_fma_per_ns = (double)kThroughputIters * 48 / best;
  }
  if (p.cpu_avx512f) {
    double best = 1e300;
    for (int r = 0; r < kRuns; r++) {
      const double t = time_once(fma_zmm, kThroughputIters);
      if (t < best) best = t;
    }
    p.avx512_fma_per_ns = (double)kThroughputIters * 48 / best;
  }
  return p;
}

#else

// A portable build (not x86-64, not GCC/Clang, or IDDPM_FORCE_PORTABLE): nothing is measured.
CpuProbe probe_cpu() { return CpuProbe{}; }

#endif

}  // namespace iddpm
