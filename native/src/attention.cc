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

// Row-wise softmax of l [rows, n], in place.
#if IDDPM_X86
IDDPM_AVX2_TARGET void softmax_rows_avx2(float* l, int rows, int n) {
  for (int i = 0; i < rows; i++) {
    float* row = l + (long)i * n;
    float mx = row[0];
    for (int j = 1; j < n; j++) mx = std::max(mx, row[j]);
    const __m256 vmx = _mm256_set1_ps(mx);
    __m256 vs = _mm256_setzero_ps();
    int j = 0;
    for (; j + 8 <= n; j += 8) {
      __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + j), vmx));
      _mm256_storeu_ps(row + j, e);
      vs = _mm256_add_ps(vs, e);
    }
    alignas(32) float part[8];
    _mm256_store_ps(part, vs);
    float sum = part[0] + part[1] + part[2] + part[3] + part[4] + part[5] + part[6] + part[7];
    for (; j < n; j++) {
      row[j] = std::exp(row[j] - mx);
      sum += row[j];
    }
    const __m256 inv = _mm256_set1_ps(1.f / sum);
    j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), inv));
    const float invs = 1.f / sum;
    for (; j < n; j++) row[j] *= invs;
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

// Copies head h's q (scaled by s), k and v of image b out of qkv into [T, d] buffers.
void gather_head(const float* qkv, int b, int h, int T, int heads, int d, float s, float* q, float* k, float* v) {
  const long c3 = 3L * heads * d;
  for (int t = 0; t < T; t++) {
    const float* src = qkv + ((long)b * T + t) * c3 + (long)h * 3 * d;
    for (int i = 0; i < d; i++) {
      q[(long)t * d + i] = src[i] * s;
      k[(long)t * d + i] = src[d + i];
      v[(long)t * d + i] = src[2 * d + i];
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
    gemm_serial(T, T, d, PackARowMajor{q, d}, PackBTransposed{k, d}, w, T, false);
    softmax_rows(w, T, T);
    gemm_serial(T, d, T, PackARowMajor{w, T}, PackBRowMajor{v, d}, o, d, false);
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
    float* dk = dq + (long)T * d;
    float* dv = dk + (long)T * d;
    float* dl = thread_scratch(kTile2, (size_t)T * T);
    gather_head(qkv, b, h, T, heads, d, s, q, k, v);
    const long c = (long)heads * d;
    for (int t = 0; t < T; t++) std::memcpy(dout + (long)t * d, dy + ((long)b * T + t) * c + (long)h * d, d * sizeof(float));
    const float* w = weights + (long)bh * T * T;
    gemm_serial(T, d, T, PackATransposed{w, T}, PackBRowMajor{dout, d}, dv, d, false);
    gemm_serial(T, T, d, PackARowMajor{dout, d}, PackBTransposed{v, d}, dl, T, false);
    for (int i = 0; i < T; i++) {
      float* r = dl + (long)i * T;
      const float* wr = w + (long)i * T;
      float dot = 0.f;
      for (int j = 0; j < T; j++) dot += r[j] * wr[j];
      for (int j = 0; j < T; j++) r[j] = wr[j] * (r[j] - dot);
    }
    gemm_serial(T, d, T, PackARowMajor{dl, T}, PackBRowMajor{k, d}, dq, d, false);
    gemm_serial(T, d, T, PackATransposed{dl, T}, PackBRowMajor{q, d}, dk, d, false);
    const long c3 = 3L * heads * d;
    for (int t = 0; t < T; t++) {
      float* dst = dqkv + ((long)b * T + t) * c3 + (long)h * 3 * d;
      for (int i = 0; i < d; i++) {
        dst[i] = s * dq[(long)t * d + i];
        dst[d + i] = dk[(long)t * d + i];
        dst[2 * d + i] = dv[(long)t * d + i];
      }
    }
  }, kAttention, 8.0 * B * heads * T * T * d);
}

}  // namespace iddpm
