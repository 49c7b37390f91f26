// AVX-512 micro-kernels: the tiles of gemm.cc's 6×16 kernels, two rows of tiles by two strips at once (up to
// 12×32 of C in 24 zmm accumulators), or one row of tiles by four strips (6×64, for the pointer-table kernel).
// Each element of C gets exactly the FMAs of the 6×16 kernels, in the same order, so the results are the same
// bits; only the number of elements per instruction changes.
//
// Templates on the tile counts keep every accumulator in a register (the loops over ROWS and VECS are unrolled at
// compile time). Partial tiles use masked loads and stores: nothing past the valid rows or columns is written.
#include "gemm.h"

#if IDDPM_X86
#include <immintrin.h>
#endif

namespace iddpm {

#if IDDPM_X86

namespace {

// Lanes of vector v (0 .. VECS−1) that hold one of the nr valid columns.
inline __mmask16 column_mask(int nr, int v) {
  const int cnt = nr - v * NR;
  return cnt >= NR ? (__mmask16)0xFFFF : cnt <= 0 ? (__mmask16)0 : (__mmask16)((1u << cnt) - 1);
}

// c[r, 0 .. nr) (+)= s[r] for r < mr.
template <int ROWS, int VECS>
IDDPM_AVX512_TARGET inline void store_rows(const __m512 (&s)[ROWS][VECS], float* c, long ldc, bool accumulate,
                                           int mr, int nr) {
  if (mr == ROWS && nr == VECS * NR) {
#pragma GCC unroll 12
    for (int r = 0; r < ROWS; r++) {
      float* cr = c + r * ldc;
#pragma GCC unroll 4
      for (int v = 0; v < VECS; v++) {
        __m512 x = s[r][v];
        if (accumulate) x = _mm512_add_ps(x, _mm512_loadu_ps(cr + v * NR));
        _mm512_storeu_ps(cr + v * NR, x);
      }
    }
    return;
  }
  __mmask16 masks[VECS];
  for (int v = 0; v < VECS; v++) masks[v] = column_mask(nr, v);
#pragma GCC unroll 12
  for (int r = 0; r < ROWS; r++) {
    if (r >= mr) break;
    float* cr = c + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < VECS; v++) {
      __m512 x = s[r][v];
      if (accumulate) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(masks[v], cr + v * NR));
      _mm512_mask_storeu_ps(cr + v * NR, masks[v], x);
    }
  }
}

// c[r, 0 .. nr) = s[r] + bias[0 .. nr) for r < mr: the same float addition as adding the sums to a C that holds
// the bias (the AVX2 path), without writing C twice.
template <int ROWS, int VECS>
IDDPM_AVX512_TARGET inline void store_rows_bias(const __m512 (&s)[ROWS][VECS], const float* bias, float* c, long ldc,
                                                int mr, int nr) {
  __mmask16 masks[VECS];
  __m512 bv[VECS];
  for (int v = 0; v < VECS; v++) {
    masks[v] = column_mask(nr, v);
    bv[v] = _mm512_maskz_loadu_ps(masks[v], bias + v * NR);
  }
#pragma GCC unroll 12
  for (int r = 0; r < ROWS; r++) {
    if (r >= mr) break;
    float* cr = c + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < VECS; v++) _mm512_mask_storeu_ps(cr + v * NR, masks[v], _mm512_add_ps(s[r][v], bv[v]));
  }
}

template <int ROWS, int VECS>
IDDPM_AVX512_TARGET inline void zero_rows(__m512 (&s)[ROWS][VECS]) {
#pragma GCC unroll 12
  for (int r = 0; r < ROWS; r++)
#pragma GCC unroll 4
    for (int v = 0; v < VECS; v++) s[r][v] = _mm512_setzero_ps();
}

// One step of K: s[r] += a(r) · b for every row (a(r): row r's A value at this step), VECS vectors of b from
// b[v] + offset.
template <int ROWS, int VECS, class A>
IDDPM_AVX512_TARGET inline void fma_step(__m512 (&s)[ROWS][VECS], const float* const (&b)[VECS], long offset,
                                         const A& a) {
  __m512 bv[VECS];
#pragma GCC unroll 4
  for (int v = 0; v < VECS; v++) bv[v] = _mm512_load_ps(b[v] + offset);
#pragma GCC unroll 12
  for (int r = 0; r < ROWS; r++) {
    const __m512 av = _mm512_set1_ps(a(r));
#pragma GCC unroll 4
    for (int v = 0; v < VECS; v++) s[r][v] = _mm512_fmadd_ps(av, bv[v], s[r][v]);
  }
}

// ROWS = 6·tiles rows read through pointer tables; VECS strips of packed B ([taps·klen][NR] each, strip v at
// b + v·bstride).
template <int ROWS, int VECS>
IDDPM_AVX512_TARGET void indirect_k(int taps, int klen, const float* const* ptrs0, const float* const* ptrs1,
                                    const float* b, long bstride, float* c, long ldc, bool accumulate,
                                    const float* bias, int mr, int nr) {
  __m512 s[ROWS][VECS];
  zero_rows(s);
  for (int t = 0; t < taps; t++) {
    const float* a[ROWS];
#pragma GCC unroll 12
    for (int r = 0; r < ROWS; r++) a[r] = r < MR ? ptrs0[t * MR + r] : ptrs1[t * MR + r - MR];
    const float* bt[VECS];
#pragma GCC unroll 4
    for (int v = 0; v < VECS; v++) bt[v] = b + v * bstride + (long)t * klen * NR;
    for (int q = 0; q < klen; q++) fma_step(s, bt, (long)q * NR, [&](int r) { return a[r][q]; });
  }
  if (bias) return store_rows_bias<ROWS, VECS>(s, bias, c, ldc, mr, nr);
  store_rows<ROWS, VECS>(s, c, ldc, accumulate, mr, nr);
}

// Packed A panels ([kc][MR] each, the second for rows 6..11) × VECS packed B strips ([kc][NR] each, strip v at
// b + v·bstride).
template <int ROWS, int VECS>
IDDPM_AVX512_TARGET void micro_k(int kc, const float* a0, const float* a1, const float* b, long bstride, float* c,
                                 long ldc, bool accumulate, int mr, int nr) {
  __m512 s[ROWS][VECS];
  zero_rows(s);
  const float* bs[VECS];
  for (int v = 0; v < VECS; v++) bs[v] = b + v * bstride;
  for (int p = 0; p < kc; p++)
    fma_step(s, bs, (long)p * NR, [&](int r) { return r < MR ? a0[p * MR + r] : a1[p * MR + r - MR]; });
  store_rows<ROWS, VECS>(s, c, ldc, accumulate, mr, nr);
}

}  // namespace

void indirect_avx512(int tiles, int vecs, int taps, int klen, const float* const* ptrs0, const float* const* ptrs1,
                     const float* b, long bstride, float* c, long ldc, bool accumulate, const float* bias, int mr,
                     int nr) {
  if (vecs == 4) return indirect_k<6, 4>(taps, klen, ptrs0, ptrs1, b, bstride, c, ldc, accumulate, bias, mr, nr);
  if (tiles == 2) {
    if (vecs == 2) return indirect_k<12, 2>(taps, klen, ptrs0, ptrs1, b, bstride, c, ldc, accumulate, bias, mr, nr);
    return indirect_k<12, 1>(taps, klen, ptrs0, ptrs1, b, bstride, c, ldc, accumulate, bias, mr, nr);
  }
  if (vecs == 2) return indirect_k<6, 2>(taps, klen, ptrs0, ptrs1, b, bstride, c, ldc, accumulate, bias, mr, nr);
  indirect_k<6, 1>(taps, klen, ptrs0, ptrs1, b, bstride, c, ldc, accumulate, bias, mr, nr);
}

void micro_avx512(int tiles, int vecs, int kc, const float* a0, const float* a1, const float* b, long bstride,
                  float* c, long ldc, bool accumulate, int mr, int nr) {
  if (tiles == 2) {
    if (vecs == 2) return micro_k<12, 2>(kc, a0, a1, b, bstride, c, ldc, accumulate, mr, nr);
    return micro_k<12, 1>(kc, a0, a1, b, bstride, c, ldc, accumulate, mr, nr);
  }
  if (vecs == 2) return micro_k<6, 2>(kc, a0, a1, b, bstride, c, ldc, accumulate, mr, nr);
  micro_k<6, 1>(kc, a0, a1, b, bstride, c, ldc, accumulate, mr, nr);
}

#else

// Never called on a build without the x86 kernels (use_avx512() is false there).
void indirect_avx512(int, int, int, int, const float* const*, const float* const*, const float*, long, float*, long,
                     bool, const float*, int, int) {}
void micro_avx512(int, int, int, const float*, const float*, const float*, long, float*, long, bool, int, int) {}

#endif

}  // namespace iddpm
