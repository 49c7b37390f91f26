// GEMM micro-kernels: AVX2+FMA 6×16 (chosen at run time) and a portable fallback.
#include "gemm.h"

#if IDDPM_X86
#include <immintrin.h>
#endif

namespace iddpm {

// Writes the full-tile result `t` (MR×NR, row stride NR) into c, only the valid mr×nr part.
static inline void store_tile(const float* t, float* c, long ldc, bool accumulate, int mr, int nr) {
  for (int r = 0; r < mr; r++) {
    float* cr = c + r * ldc;
    const float* tr = t + r * NR;
    if (accumulate)
      for (int j = 0; j < nr; j++) cr[j] += tr[j];
    else
      for (int j = 0; j < nr; j++) cr[j] = tr[j];
  }
}

// The portable kernels work one output row at a time (16 accumulators, a plain vectorisable loop on any
// compiler); the B strip is re-read per row from L1. Fully unrolled 6×16 tiles vectorise badly without intrinsics.
static void micro_generic(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, int mr,
                          int nr) {
  for (int r = 0; r < mr; r++) {
    float acc[NR] = {0};
    for (int p = 0; p < kc; p++) {
      const float ar = a[p * MR + r];
      const float* bp = b + p * NR;
      for (int j = 0; j < NR; j++) acc[j] += ar * bp[j];
    }
    float* cr = c + r * ldc;
    if (accumulate)
      for (int j = 0; j < nr; j++) cr[j] += acc[j];
    else
      for (int j = 0; j < nr; j++) cr[j] = acc[j];
  }
}

#if IDDPM_X86
IDDPM_AVX2_TARGET
static void micro_avx2(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, int mr, int nr) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
#define IDDPM_STEP(P)                                                      \
  {                                                                        \
    const __m256 b0 = _mm256_load_ps(b + (P) * NR);                        \
    const __m256 b1 = _mm256_load_ps(b + (P) * NR + 8);                    \
    __m256 av = _mm256_broadcast_ss(a + (P) * MR + 0);                     \
    c00 = _mm256_fmadd_ps(av, b0, c00);                                    \
    c01 = _mm256_fmadd_ps(av, b1, c01);                                    \
    av = _mm256_broadcast_ss(a + (P) * MR + 1);                            \
    c10 = _mm256_fmadd_ps(av, b0, c10);                                    \
    c11 = _mm256_fmadd_ps(av, b1, c11);                                    \
    av = _mm256_broadcast_ss(a + (P) * MR + 2);                            \
    c20 = _mm256_fmadd_ps(av, b0, c20);                                    \
    c21 = _mm256_fmadd_ps(av, b1, c21);                                    \
    av = _mm256_broadcast_ss(a + (P) * MR + 3);                            \
    c30 = _mm256_fmadd_ps(av, b0, c30);                                    \
    c31 = _mm256_fmadd_ps(av, b1, c31);                                    \
    av = _mm256_broadcast_ss(a + (P) * MR + 4);                            \
    c40 = _mm256_fmadd_ps(av, b0, c40);                                    \
    c41 = _mm256_fmadd_ps(av, b1, c41);                                    \
    av = _mm256_broadcast_ss(a + (P) * MR + 5);                            \
    c50 = _mm256_fmadd_ps(av, b0, c50);                                    \
    c51 = _mm256_fmadd_ps(av, b1, c51);                                    \
  }
  int p = 0;
  for (; p + 4 <= kc; p += 4) {
    IDDPM_STEP(0) IDDPM_STEP(1) IDDPM_STEP(2) IDDPM_STEP(3)
    a += 4 * MR;
    b += 4 * NR;
  }
  for (; p < kc; p++) {
    IDDPM_STEP(0)
    a += MR;
    b += NR;
  }
#undef IDDPM_STEP
  if (mr == MR && nr == NR) {
#define IDDPM_ROW(R, V0, V1)                                    \
  {                                                             \
    float* cr = c + (R) * ldc;                                  \
    __m256 v0 = V0, v1 = V1;                                    \
    if (accumulate) {                                           \
      v0 = _mm256_add_ps(v0, _mm256_loadu_ps(cr));              \
      v1 = _mm256_add_ps(v1, _mm256_loadu_ps(cr + 8));          \
    }                                                           \
    _mm256_storeu_ps(cr, v0);                                   \
    _mm256_storeu_ps(cr + 8, v1);                               \
  }
    IDDPM_ROW(0, c00, c01)
    IDDPM_ROW(1, c10, c11)
    IDDPM_ROW(2, c20, c21)
    IDDPM_ROW(3, c30, c31)
    IDDPM_ROW(4, c40, c41)
    IDDPM_ROW(5, c50, c51)
#undef IDDPM_ROW
    return;
  }
  alignas(32) float t[MR * NR];
  _mm256_store_ps(t + 0 * NR, c00);
  _mm256_store_ps(t + 0 * NR + 8, c01);
  _mm256_store_ps(t + 1 * NR, c10);
  _mm256_store_ps(t + 1 * NR + 8, c11);
  _mm256_store_ps(t + 2 * NR, c20);
  _mm256_store_ps(t + 2 * NR + 8, c21);
  _mm256_store_ps(t + 3 * NR, c30);
  _mm256_store_ps(t + 3 * NR + 8, c31);
  _mm256_store_ps(t + 4 * NR, c40);
  _mm256_store_ps(t + 4 * NR + 8, c41);
  _mm256_store_ps(t + 5 * NR, c50);
  _mm256_store_ps(t + 5 * NR + 8, c51);
  store_tile(t, c, ldc, accumulate, mr, nr);
}
#endif

// (The indirect kernel keeps the 6×16 tile: its B strip is too large for L1 to re-read per row, and this loop
// order vectorises acceptably here.)
static void indirect_generic(int taps, int klen, const float* const* ptrs, const float* b, float* c, long ldc,
                             bool accumulate, int mr, int nr) {
  float acc[MR][NR];
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < NR; j++) acc[r][j] = 0.f;
  for (int t = 0; t < taps; t++) {
    const float* const* pt = ptrs + t * MR;
    for (int q = 0; q < klen; q++) {
      const float* bp = b + ((long)t * klen + q) * NR;
      for (int r = 0; r < MR; r++) {
        const float ar = pt[r][q];
        for (int j = 0; j < NR; j++) acc[r][j] += ar * bp[j];
      }
    }
  }
  store_tile(&acc[0][0], c, ldc, accumulate, mr, nr);
}

#if IDDPM_X86
IDDPM_AVX2_TARGET
static void store_acc_avx2(const __m256* v, float* c, long ldc, bool accumulate, int mr, int nr) {
  if (mr == MR && nr == NR) {
    for (int r = 0; r < MR; r++) {
      float* cr = c + r * ldc;
      __m256 v0 = v[2 * r], v1 = v[2 * r + 1];
      if (accumulate) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(cr));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(cr + 8));
      }
      _mm256_storeu_ps(cr, v0);
      _mm256_storeu_ps(cr + 8, v1);
    }
    return;
  }
  alignas(32) float t[MR * NR];
  for (int r = 0; r < MR; r++) {
    _mm256_store_ps(t + r * NR, v[2 * r]);
    _mm256_store_ps(t + r * NR + 8, v[2 * r + 1]);
  }
  store_tile(t, c, ldc, accumulate, mr, nr);
}

#define IDDPM_FMA_ROW(R, AV)                 \
  {                                          \
    const __m256 av_ = (AV);                 \
    c##R##0 = _mm256_fmadd_ps(av_, b0, c##R##0); \
    c##R##1 = _mm256_fmadd_ps(av_, b1, c##R##1); \
  }
#define IDDPM_ZERO_ACC                                                  \
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();          \
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();          \
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();          \
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();          \
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();          \
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
#define IDDPM_STORE_ACC                                                                          \
  {                                                                                              \
    const __m256 v[2 * MR] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};       \
    store_acc_avx2(v, c, ldc, accumulate, mr, nr);                                               \
  }

IDDPM_AVX2_TARGET
static void indirect_avx2(int taps, int klen, const float* const* ptrs, const float* b, float* c, long ldc,
                          bool accumulate, int mr, int nr) {
  IDDPM_ZERO_ACC
  for (int t = 0; t < taps; t++) {
    const float* const* pt = ptrs + t * MR;
    const float *a0 = pt[0], *a1 = pt[1], *a2 = pt[2], *a3 = pt[3], *a4 = pt[4], *a5 = pt[5];
    int q = 0;
#define IDDPM_ISTEP(Q)                                          \
  {                                                             \
    const __m256 b0 = _mm256_load_ps(b + (Q) * NR);             \
    const __m256 b1 = _mm256_load_ps(b + (Q) * NR + 8);         \
    IDDPM_FMA_ROW(0, _mm256_broadcast_ss(a0 + q + (Q)))         \
    IDDPM_FMA_ROW(1, _mm256_broadcast_ss(a1 + q + (Q)))         \
    IDDPM_FMA_ROW(2, _mm256_broadcast_ss(a2 + q + (Q)))         \
    IDDPM_FMA_ROW(3, _mm256_broadcast_ss(a3 + q + (Q)))         \
    IDDPM_FMA_ROW(4, _mm256_broadcast_ss(a4 + q + (Q)))         \
    IDDPM_FMA_ROW(5, _mm256_broadcast_ss(a5 + q + (Q)))         \
  }
    for (; q + 4 <= klen; q += 4) {
      IDDPM_ISTEP(0) IDDPM_ISTEP(1) IDDPM_ISTEP(2) IDDPM_ISTEP(3)
      b += 4 * NR;
    }
    for (; q < klen; q++) {
      IDDPM_ISTEP(0)
      b += NR;
    }
#undef IDDPM_ISTEP
  }
  IDDPM_STORE_ACC
}

#undef IDDPM_FMA_ROW
#undef IDDPM_ZERO_ACC
#undef IDDPM_STORE_ACC
#endif

IndirectKernel indirect_kernel() {
#if IDDPM_X86
  if (use_avx2()) return indirect_avx2;
#endif
  return indirect_generic;
}

MicroKernel micro_kernel() {
#if IDDPM_X86
  if (use_avx2()) return micro_avx2;
#endif
  return micro_generic;
}

void indirect_block(int taps, int klen, const float* const* ptrs, int rows, const float* b, int n, float* c,
                    long ldc, bool accumulate, const float* bias) {
  const int tiles = (rows + MR - 1) / MR;
  const int strips = (n + NR - 1) / NR;
  const long k = (long)taps * klen;
  const long table = (long)taps * MR;  // pointers per tile
  if (use_avx512()) {
    // Strips outer (their K·NR floats each stay in L2 while the tiles stream): four at a time by single tiles
    // (6×64: six row pointers, where 12×32 tiles need twelve, more registers than x86-64 has to spare; measured
    // 5-10% faster), then two by pairs of tiles, then one.
    int s = 0;
    for (; s + 4 <= strips; s += 4) {
      const float* bs = b + s * k * NR;
      for (int i = 0; i < tiles; i++)
        indirect_avx512(1, 4, taps, klen, ptrs + i * table, nullptr, bs, k * NR, c + (long)i * MR * ldc + s * NR, ldc,
                        accumulate, bias ? bias + s * NR : nullptr, std::min(MR, rows - i * MR),
                        std::min(4 * NR, n - s * NR));
    }
    for (; s < strips; s += 2) {
      const int vecs = s + 1 < strips ? 2 : 1;
      const float* bs = b + s * k * NR;
      const int nr = std::min(vecs * NR, n - s * NR);
      for (int i = 0; i < tiles; i += 2) {
        const int tl = i + 1 < tiles ? 2 : 1;
        indirect_avx512(tl, vecs, taps, klen, ptrs + i * table, tl == 2 ? ptrs + (i + 1) * table : nullptr, bs,
                        k * NR, c + (long)i * MR * ldc + s * NR, ldc, accumulate, bias ? bias + s * NR : nullptr,
                        std::min(tl * MR, rows - i * MR), nr);
      }
    }
    return;
  }
  if (bias) {
    for (int i = 0; i < rows; i++) std::memcpy(c + (long)i * ldc, bias, n * sizeof(float));
    accumulate = true;
  }
  const IndirectKernel kern = indirect_kernel();
  for (int s = 0; s < strips; s++) {
    const float* bs = b + s * k * NR;
    const int nr = std::min(NR, n - s * NR);
    for (int i = 0; i < tiles; i++)
      kern(taps, klen, ptrs + i * table, bs, c + (long)i * MR * ldc + s * NR, ldc, accumulate,
           std::min(MR, rows - i * MR), nr);
  }
}

void micro_block(int kc, const float* a, int mc, const PackedB& B, int pc, float* c, long ldc, bool accumulate) {
  const int n = B.n;
  if (use_avx512()) {
    for (int jr = 0; jr < n; jr += 2 * NR) {
      const int vecs = jr + NR < n ? 2 : 1;
      const float* b0 = B.strip(pc, jr);
      const int nr = std::min(vecs * NR, n - jr);
      for (int ir = 0; ir < mc; ir += 2 * MR) {
        const int tl = ir + MR < mc ? 2 : 1;
        micro_avx512(tl, vecs, kc, a + (long)ir * kc, a + (long)(ir + MR) * kc, b0, (long)kc * NR,
                     c + (long)ir * ldc + jr, ldc, accumulate, std::min(tl * MR, mc - ir), nr);
      }
    }
    return;
  }
  const MicroKernel kern = micro_kernel();
  for (int jr = 0; jr < n; jr += NR) {
    const float* bs = B.strip(pc, jr);
    const int nr = std::min(NR, n - jr);
    for (int ir = 0; ir < mc; ir += MR)
      kern(kc, a + (long)ir * kc, bs, c + (long)ir * ldc + jr, ldc, accumulate, std::min(MR, mc - ir), nr);
  }
}

int row_task_size(int m, long work_per_row) {
  const int threads = pool().size();
  // Below ~0.5 MFMA a task costs more to hand out than to run.
  if (threads == 1 || (long)m * work_per_row < 500000) return std::max(m, 1);
  int tasks = threads * 4;
  int rows = (m + tasks - 1) / tasks;
  rows = ((rows + MR - 1) / MR) * MR;
  // Keep tasks large enough to amortise packing.
  const int min_rows = (int)std::min<long>(MC, std::max<long>(MR, 200000 / std::max<long>(work_per_row, 1)));
  rows = std::max(rows, ((min_rows + MR - 1) / MR) * MR);
  return std::max(rows, MR);
}

}  // namespace iddpm
