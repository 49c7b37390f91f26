// Multi-head self-attention core, one task per (batch, head), GEMMs on the calling thread.
// Forward: L = (s·q) kᵀ, W = softmax(L) (saved), O = W v, with s = d^-½.
// Backward: dv = Wᵀ dO, dW = dO vᵀ, dL = W ⊙ (dW − rowsum(dW ⊙ W)), dq = s·dL k, dk = dLᵀ (s·q).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "gemm.h"
#include "kernels.h"
#include "vmath.h"

namespace iddpm {

namespace {

#if IDDPM_X86
IDDPM_AVX2_TARGET float hmax256(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

IDDPM_AVX2_TARGET float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

IDDPM_AVX2_TARGET void softmax_rows_avx2(float* l, int rows, int n) {
  for (int i = 0; i < rows; i++) {
    float* row = l + (long)i * n;
    int j = 0;
    float mx = row[0];
    if (n >= 8) {
      __m256 vm = _mm256_loadu_ps(row);
      for (j = 8; j + 8 <= n; j += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(row + j));
      mx = hmax256(vm);
    }
    for (; j < n; j++) mx = std::max(mx, row[j]);
    const __m256 vmx = _mm256_set1_ps(mx);
    __m256 vs = _mm256_setzero_ps();
    j = 0;
    for (; j + 8 <= n; j += 8) {
      __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + j), vmx));
      _mm256_storeu_ps(row + j, e);
      vs = _mm256_add_ps(vs, e);
    }
    float sum = hsum256(vs);
    for (; j < n; j++) {
      row[j] = std::exp(row[j] - mx);
      sum += row[j];
    }
    const float inv = 1.f / sum;
    const __m256 vinv = _mm256_set1_ps(inv);
    j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), vinv));
    for (; j < n; j++) row[j] *= inv;
  }
}

// dl = w ⊙ (dl − rowsum(dl ⊙ w)), row by row, in place.
IDDPM_AVX2_TARGET void softmax_grad_avx2(float* dl, const float* w, int rows, int n) {
  for (int i = 0; i < rows; i++) {
    float* r = dl + (long)i * n;
    const float* wr = w + (long)i * n;
    __m256 vd = _mm256_setzero_ps();
    int j = 0;
    for (; j + 8 <= n; j += 8) vd = _mm256_fmadd_ps(_mm256_loadu_ps(r + j), _mm256_loadu_ps(wr + j), vd);
    float dot = hsum256(vd);
    for (; j < n; j++) dot += r[j] * wr[j];
    const __m256 vdot = _mm256_set1_ps(dot);
    j = 0;
    for (; j + 8 <= n; j += 8)
      _mm256_storeu_ps(r + j, _mm256_mul_ps(_mm256_loadu_ps(wr + j), _mm256_sub_ps(_mm256_loadu_ps(r + j), vdot)));
    for (; j < n; j++) r[j] = wr[j] * (r[j] - dot);
  }
}
#endif

void softmax_rows(float* l, int rows, int n) {
#if IDDPM_X86
  if (use_avx2()) return softmax_rows_avx2(l, rows, n);
#endif
  for (int i = 0; i < rows; i++) {
    float* row = l + (long)i * n;
    float mx = row[0];
    for (int j = 1; j < n; j++) mx = std::max(mx, row[j]);
    float sum = 0.f;
    for (int j = 0; j < n; j++) {
      row[j] = std::exp(row[j] - mx);
      sum += row[j];
    }
    const float inv = 1.f / sum;
    for (int j = 0; j < n; j++) row[j] *= inv;
  }
}

void softmax_grad(float* dl, const float* w, int rows, int n) {
#if IDDPM_X86
  if (use_avx2()) return softmax_grad_avx2(dl, w, rows, n);
#endif
  for (int i = 0; i < rows; i++) {
    float* r = dl + (long)i * n;
    const float* wr = w + (long)i * n;
    float dot = 0.f;
    for (int j = 0; j < n; j++) dot += r[j] * wr[j];
    for (int j = 0; j < n; j++) r[j] = wr[j] * (r[j] - dot);
  }
}

// c[m, n] = a[m, k] · b[k, n], a row-major (row stride lda) read in place by the indirect kernel (no packing of
// the large operand), b packed here.
void gemm_rows_direct(int m, int n, int k, const float* a, long lda, const float* b, long ldb, float* c, long ldc) {
  float* bp = thread_scratch(kPackB, packed_b_size(n, k));
  pack_b_strips(bp, n, k, PackBRowMajor{b, ldb});
  // One tap per tile: row r of tile i is a's row i·MR + r (rows past m repeat the last one; not written).
  const int tiles = (m + MR - 1) / MR;
  const float** ptrs = reinterpret_cast<const float**>(thread_scratch(kTile3, (size_t)tiles * MR * 2));
  for (int r = 0; r < tiles * MR; r++) ptrs[r] = a + (long)std::min(r, m - 1) * lda;
  indirect_block(1, k, ptrs, m, bp, n, c, ldc, false);
}

// Copies head h's q (scaled by s), k and v of image b out of qkv into [T, d] buffers.
// (__restrict: the buffers never overlap qkv, which lets the compiler vectorise the scaling.)
void gather_head(const float* __restrict qkv, int b, int h, int T, int heads, int d, float s, float* __restrict q,
                 float* __restrict k, float* __restrict v) {
  const long c3 = 3L * heads * d;
  for (int t = 0; t < T; t++) {
    const float* __restrict src = qkv + ((long)b * T + t) * c3 + (long)h * 3 * d;
    float* __restrict qt = q + (long)t * d;
    for (int i = 0; i < d; i++) qt[i] = src[i] * s;
    std::memcpy(k + (long)t * d, src + d, d * sizeof(float));
    std::memcpy(v + (long)t * d, src + 2 * d, d * sizeof(float));
  }
}

// dqkv's rows of head h of image b from dq [T, d] (times s) and dkᵀ, dvᵀ [d, T], the transposes in 16×16 blocks
// (each block's rows stay in L1).
void scatter_head_grads(const float* __restrict dq, const float* __restrict dkT, const float* __restrict dvT, int b,
                        int h, int T, int heads, int d, float s, float* __restrict dqkv) {
  const long c3 = 3L * heads * d;
  float* base = dqkv + (long)b * T * c3 + (long)h * 3 * d;
  for (int t = 0; t < T; t++) {
    float* __restrict dst = base + (long)t * c3;
    const float* __restrict src = dq + (long)t * d;
    for (int i = 0; i < d; i++) dst[i] = s * src[i];
  }
  constexpr int TB = 16;
  for (int t0 = 0; t0 < T; t0 += TB) {
    const int t1 = std::min(T, t0 + TB);
    for (int i0 = 0; i0 < d; i0 += TB) {
      const int i1 = std::min(d, i0 + TB);
      for (int t = t0; t < t1; t++) {
        float* __restrict dst = base + (long)t * c3;
        for (int i = i0; i < i1; i++) {
          dst[d + i] = dkT[(long)i * T + t];
          dst[2 * d + i] = dvT[(long)i * T + t];
        }
      }
    }
  }
}

}  // namespace

void attention_forward(const float* qkv, float* out, float* weights, int B, int T, int heads, int d) {
  const float s = 1.f / std::sqrt((float)d);
  pool().run(B * heads, [&](int bh, int) {
    const int b = bh / heads, h = bh - b * heads;
    float* q = thread_scratch(kTile0, (size_t)3 * T * d);
    float* k = q + (long)T * d;
    float* v = k + (long)T * d;
    float* o = thread_scratch(kTile1, (size_t)T * d);
    gather_head(qkv, b, h, T, heads, d, s, q, k, v);
    float* w = weights + (long)bh * T * T;
    gemm_serial(T, T, d, PackARowMajor{q, d}, PackBTransposed{k, d}, w, T, false);  // L = (s·q) kᵀ
    softmax_rows(w, T, T);
    gemm_rows_direct(T, d, T, w, T, v, d, o, d);  // O = W v
    const long c = (long)heads * d;
    for (int t = 0; t < T; t++) std::memcpy(out + ((long)b * T + t) * c + (long)h * d, o + (long)t * d, d * sizeof(float));
  }, kAttention, 4.0 * B * heads * T * T * d);
}

void attention_backward(const float* qkv, const float* weights, const float* dy, float* dqkv, int B, int T,
                        int heads, int d) {
  const float s = 1.f / std::sqrt((float)d);
  pool().run(B * heads, [&](int bh, int) {
    const int b = bh / heads, h = bh - b * heads;
    float* q = thread_scratch(kTile0, (size_t)3 * T * d);
    float* k = q + (long)T * d;
    float* v = k + (long)T * d;
    float* grads = thread_scratch(kTile1, (size_t)4 * T * d);
    float* dout = grads;
    float* dq = dout + (long)T * d;
    float* dkT = dq + (long)T * d;  // [d, T]
    float* dvT = dkT + (long)T * d;  // [d, T]
    float* dl = thread_scratch(kTile2, (size_t)T * T);
    gather_head(qkv, b, h, T, heads, d, s, q, k, v);
    const long c = (long)heads * d;
    for (int t = 0; t < T; t++) std::memcpy(dout + (long)t * d, dy + ((long)b * T + t) * c + (long)h * d, d * sizeof(float));
    const float* w = weights + (long)bh * T * T;
    // dvᵀ = dOᵀ W and dkᵀ = (s·q)ᵀ dL: the T×T operand is the B side, packed by row copies.
    gemm_serial(d, T, T, PackATransposed{dout, d}, PackBRowMajor{w, T}, dvT, T, false);
    gemm_serial(T, T, d, PackARowMajor{dout, d}, PackBTransposed{v, d}, dl, T, false);  // dW = dO vᵀ
    softmax_grad(dl, w, T, T);                                                              // dL
    gemm_rows_direct(T, d, T, dl, T, k, d, dq, d);                                          // dq = dL k (·s below)
    gemm_serial(d, T, T, PackATransposed{q, d}, PackBRowMajor{dl, T}, dkT, T, false);
    scatter_head_grads(dq, dkT, dvT, b, h, T, heads, d, s, dqkv);
  }, kAttention, 8.0 * B * heads * T * T * d);
}

}  // namespace iddpm
