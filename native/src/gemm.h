// Packed single-precision GEMM: C[m, n] (+)= Σ_p A[m, p] · B[p, n], with the operands read through packing
// functors, so convolutions can pack straight from NHWC tensors (implicit im2col) without materialising them.
//
// Blocking (BLIS style): B is packed in KC×NR strips, A in MR×KC strips, and an MR×NR micro-kernel (AVX2+FMA
// 6×16, or a portable one) accumulates a tile over one KC block. The summation order of every output depends
// only on K and KC, never on how rows are split between threads: results are identical for any thread count.
#pragma once

#include <algorithm>
#include <cstring>

#include "common.h"

namespace iddpm {

constexpr int MR = 6;
constexpr int NR = 16;
constexpr int KC = 256;
constexpr int MC = 96;  // multiple of MR

// c[mr×nr] (+)= a-strip · b-strip over kc, a packed [kc][MR], b packed [kc][NR]; rows ≥ mr / cols ≥ nr ignored.
using MicroKernel = void (*)(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, int mr,
                             int nr);
MicroKernel micro_kernel();

// Indirect micro-kernel (convolutions without packing A): K = taps·klen; row r of tap t is the contiguous run
// ptrs[t·MR + r][0 .. klen) (a pointer into the input, or to zeros). b is one packed strip [K][NR].
using IndirectKernel = void (*)(int taps, int klen, const float* const* ptrs, const float* b, float* c, long ldc,
                                bool accumulate, int mr, int nr);
IndirectKernel indirect_kernel();


// ---- Blocks of tiles: every micro-kernel call of a block goes through these, which pick the widest kernels the
// CPU runs. With AVX-512 a call computes up to 12×32 or 6×64 of C (two MR-row tiles × two NR-column strips, or one
// tile × four strips; 24 zmm accumulators) instead of 6×16, so each A value broadcast and each B row loaded serves twice the FMAs. Every
// element of C still gets the same FMAs in the same order (Σ over K from zero, then one add into C when
// accumulating), so the AVX-512 and AVX2 kernels give the same bits.

// Indirect kernel over the `rows` rows of a block: tile i (rows i·MR ..) has its pointer table at ptrs + i·taps·MR
// (rows past the valid ones point at zeros or repeat a valid row); b holds ceil(n/NR) strips of [taps·klen][NR].
// With `bias` ([n]), c = bias + the sums (c's old values unused; `accumulate` must be false).
void indirect_block(int taps, int klen, const float* const* ptrs, int rows, const float* b, int n, float* c,
                    long ldc, bool accumulate, const float* bias = nullptr);

struct PackedB;

// Packed kernel over mc rows (panels of [kc][MR] at a + i·MR·kc) × all n columns of B's KC block pc.
void micro_block(int kc, const float* a, int mc, const PackedB& B, int pc, float* c, long ldc,
                 bool accumulate);

// The AVX-512 kernels (gemm_avx512.cc), for the blocks above: `tiles` MR-row tiles (1 or 2) × `vecs` NR-column
// strips (1 or 2); mr ≤ tiles·MR valid rows, nr ≤ vecs·NR valid columns.
// With `bias` (this call's first column's), c = sums + bias (the AVX2 path's C filled with the bias, then added to).
// The `vecs` strips start at b + v·bstride; the indirect kernel also takes vecs = 4 (with tiles = 1).
void indirect_avx512(int tiles, int vecs, int taps, int klen, const float* const* ptrs0, const float* const* ptrs1,
                     const float* b, long bstride, float* c, long ldc, bool accumulate, const float* bias, int mr,
                     int nr);
void micro_avx512(int tiles, int vecs, int kc, const float* a0, const float* a1, const float* b, long bstride,
                  float* c, long ldc, bool accumulate, int mr, int nr);

// ---- Packing functors: pack(dst, start, count, p0, kc) writes kc×MR (A) or kc×NR (B), zero-padding past count.

// A stored row-major [M][K] with row stride lda.
struct PackARowMajor {
  const float* a;
  long lda;
  void operator()(float* dst, int i0, int mr, int p0, int kc) const {
    for (int r = 0; r < mr; r++) {
      const float* src = a + (long)(i0 + r) * lda + p0;
      for (int p = 0; p < kc; p++) dst[p * MR + r] = src[p];
    }
    for (int r = mr; r < MR; r++)
      for (int p = 0; p < kc; p++) dst[p * MR + r] = 0.f;
  }
};

// A stored transposed: element (i, p) at a[p * lda + i].
struct PackATransposed {
  const float* a;
  long lda;
  void operator()(float* dst, int i0, int mr, int p0, int kc) const {
    for (int p = 0; p < kc; p++) {
      const float* src = a + (long)(p0 + p) * lda + i0;
      float* d = dst + p * MR;
      if (mr == MR) {  // a fixed-size copy: inlined as vector moves
        std::memcpy(d, src, MR * sizeof(float));
        continue;
      }
      int r = 0;
      for (; r < mr; r++) d[r] = src[r];
      for (; r < MR; r++) d[r] = 0.f;
    }
  }
};

// B stored row-major [K][N] with row stride ldb.
struct PackBRowMajor {
  const float* b;
  long ldb;
  void operator()(float* dst, int j0, int nr, int p0, int kc) const {
    if (nr == NR) {
      for (int p = 0; p < kc; p++) std::memcpy(dst + p * NR, b + (long)(p0 + p) * ldb + j0, NR * sizeof(float));
      return;
    }
    for (int p = 0; p < kc; p++) {
      const float* src = b + (long)(p0 + p) * ldb + j0;
      float* d = dst + p * NR;
      int c = 0;
      for (; c < nr; c++) d[c] = src[c];
      for (; c < NR; c++) d[c] = 0.f;
    }
  }
};

// B stored transposed: element (p, j) at b[j * ldb + p].
struct PackBTransposed {
  const float* b;
  long ldb;
  void operator()(float* dst, int j0, int nr, int p0, int kc) const {
    for (int c = 0; c < nr; c++) {
      const float* src = b + (long)(j0 + c) * ldb + p0;
      for (int p = 0; p < kc; p++) dst[p * NR + c] = src[p];
    }
    for (int c = nr; c < NR; c++)
      for (int p = 0; p < kc; p++) dst[p * NR + c] = 0.f;
  }
};

// B packed once for all of K×N (shared read-only by every thread): KC blocks, each of ceil(N/NR) strips.
struct PackedB {
  float* data = nullptr;
  int n = 0, k = 0;
  int strips = 0;
  const float* strip(int pc, int jr) const {
    int kc = std::min(KC, k - pc);
    return data + (long)pc * strips * NR + (long)(jr / NR) * kc * NR;
  }
};

inline size_t packed_b_size(int n, int k) { return (size_t)((n + NR - 1) / NR) * NR * k; }

template <class PB>
void pack_b(PackedB& out, float* buf, int n, int k, const PB& pb) {
  out.data = buf;
  out.n = n;
  out.k = k;
  out.strips = (n + NR - 1) / NR;
  for (int pc = 0; pc < k; pc += KC) {
    int kc = std::min(KC, k - pc);
    for (int jr = 0; jr < n; jr += NR) pb(const_cast<float*>(out.strip(pc, jr)), jr, std::min(NR, n - jr), pc, kc);
  }
}

// Rows [m0, m1) of C (row stride ldc) (+)= A·B with B pre-packed. Single-threaded; uses this thread's scratch.
template <class PA>
void gemm_rows(int m0, int m1, const PA& pa, const PackedB& B, float* c, long ldc, bool accumulate) {
  const int n = B.n, k = B.k;
  float* abuf = thread_scratch(kPackA, (size_t)MC * KC);
  if (k == 0) {
    if (!accumulate)
      for (int i = m0; i < m1; i++) std::memset(c + (long)i * ldc, 0, n * sizeof(float));
    return;
  }
  for (int pc = 0; pc < k; pc += KC) {
    const int kc = std::min(KC, k - pc);
    const bool acc = accumulate || pc > 0;
    for (int ic = m0; ic < m1; ic += MC) {
      const int mc = std::min(MC, m1 - ic);
      for (int ir = 0; ir < mc; ir += MR) pa(abuf + (long)ir * kc, ic + ir, std::min(MR, mc - ir), pc, kc);
      micro_block(kc, abuf, mc, B, pc, c + (long)ic * ldc, ldc, acc);
    }
  }
}

// Whole GEMM on the calling thread: packs B into this thread's scratch.
template <class PA, class PB>
void gemm_serial(int m, int n, int k, const PA& pa, const PB& pb, float* c, long ldc, bool accumulate) {
  PackedB B;
  pack_b(B, thread_scratch(kPackB, packed_b_size(n, k)), n, k, pb);
  gemm_rows(0, m, pa, B, c, ldc, accumulate);
}

// Packs all of B (K×N) as ceil(N/NR) strips of [K][NR] (no K blocking), for the indirect kernel.
template <class PB>
void pack_b_strips(float* dst, int n, int k, const PB& pb) {
  for (int jr = 0; jr < n; jr += NR) pb(dst + (long)(jr / NR) * k * NR, jr, std::min(NR, n - jr), 0, k);
}

// Row tasks for a parallel GEMM: about 4 per thread, at least MR rows, multiples of MR.
int row_task_size(int m, long work_per_row);

// Whole GEMM on the pool: B packed once, rows split into tasks.
template <class PA, class PB>
void gemm_parallel(int m, int n, int k, const PA& pa, const PB& pb, float* c, long ldc, bool accumulate) {
  PackedB B;
  pack_b(B, thread_scratch(kPackB, packed_b_size(n, k)), n, k, pb);
  const int rows = row_task_size(m, (long)n * k);
  const int tasks = (m + rows - 1) / rows;
  pool().run(tasks, [&](int t, int) {
    const int r0 = t * rows;
    gemm_rows(r0, std::min(m, r0 + rows), pa, B, c, ldc, accumulate);
  }, kMatmul, 2.0 * m * n * k);
}

}  // namespace iddpm
