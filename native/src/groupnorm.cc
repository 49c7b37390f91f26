// GroupNorm (+ scale/shift) (+ SiLU) over NHWC, one task per image. Same math as groupNormFast
// (ops/groupNorm.ts), arranged for float32 accuracy when a group's mean is large against its spread (|μ|·r ≫ 1):
//
// Forward: μ and σ² two-pass, the sums over H·W in double (a float running sum of ~10³ values near μ loses about
// √HW·ulp(HW·μ)/HW of the mean, which the normalisation multiplies by r = 1/σ). With m = float(μ) (the saved
// mean) and δ = μ − m: z = (x − m)·A + K, A = rγ(1+s), K = (β − δ·rγ)(1+s) + t, then SiLU. x − m is exact for x
// near m, so nothing of size μ·r cancels (the form x·A + (β − μA) loses ulp(μ)·r).
// Backward, with g = dy·SiLU'(z) (or dy), per channel: S1 = Σ_hw g, S3 = Σ_hw g·(x − μ) (centred: the form
// Σ g·x − μ Σ g cancels the same way), from sums of g, g·(x − m) and x − m (which gives δ exactly);
// then dt = S1, ds = rγ·S3 + β·S1; with g' = g(1+s): M1 = (1+s)S1/HW, G = r(1+s)S3/HW,
// dβ = HW Σ_b M1, dγ = HW Σ_b G, m1 = mean_grp γM1, m2 = mean_grp γG,
//   dx = g·A + (x − m)·q + kk with q = −r²m2, kk = −r·m1 − q·δ.
// SiLU' needs z, so δ before that pass: only where it matters (|m|·r > 1 in some group, else δ·rγ is below z's
// rounding) is μ summed again first, as in the forward (the same z); otherwise z takes δ = 0.
// Sums of products run in float over 16 rows at a time (centred terms: no cancellation), then in double.
// Each image's sums run in a fixed order and dγ, dβ add the images in order: the same bits for any thread count.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "common.h"
#include "kernels.h"
#include "vmath.h"

namespace iddpm {

namespace {

// Per image: the per-channel constants of z = (x − m)·a + k, and, in double, μ per channel.
struct ChannelVectors {
  float *a, *k, *m;
  double* mu;
};

// s[c] = Σ_i x[i·C + c] over hw rows, in double.
void col_sum(const float* x, int hw, int C, double* s);
// s[c] = Σ_i (x[i·C + c] − mu[c])², in double.
void col_sq_dev(const float* x, const double* mu, int hw, int C, double* s);
// y = z·σ(z) or z, z = (x − m)·a + k.
void affine(const float* x, const float* m, const float* a, const float* k, float* y, int hw, int C, bool silu);
// g = dy·SiLU'(z) (written to g) or dy (g == nullptr: not written); with d = x − m (exact for x near m):
// s1[c] = Σ g, s3[c] = Σ g·d, sx[c] = Σ d, summed in float over kRowBlock rows at a time, then in double.
constexpr int kRowBlock = 16;
void grad_sums(const float* x, const float* dy, const float* m, const float* a, const float* k, float* g, int hw,
               int C, bool silu, double* s1, double* s3, double* sx);
// dx = g·a + (x − m)·q + kk.
void input_grad(const float* g, const float* x, const float* m, const float* a, const float* q, const float* kk,
                float* dx, int hw, int C);

#if IDDPM_X86
IDDPM_AVX2_TARGET void col_sum_avx2(const float* x, int hw, int C, double* s) {
  int c = 0;
  for (; c + 16 <= C; c += 16) {
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    for (int i = 0; i < hw; i++) {
      const float* p = x + (long)i * C + c;
      s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm_loadu_ps(p)));
      s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm_loadu_ps(p + 4)));
      s2 = _mm256_add_pd(s2, _mm256_cvtps_pd(_mm_loadu_ps(p + 8)));
      s3 = _mm256_add_pd(s3, _mm256_cvtps_pd(_mm_loadu_ps(p + 12)));
    }
    _mm256_storeu_pd(s + c, s0);
    _mm256_storeu_pd(s + c + 4, s1);
    _mm256_storeu_pd(s + c + 8, s2);
    _mm256_storeu_pd(s + c + 12, s3);
  }
  for (; c + 4 <= C; c += 4) {
    __m256d s0 = _mm256_setzero_pd();
    for (int i = 0; i < hw; i++) s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm_loadu_ps(x + (long)i * C + c)));
    _mm256_storeu_pd(s + c, s0);
  }
  for (; c < C; c++) {
    double t = 0;
    for (int i = 0; i < hw; i++) t += x[(long)i * C + c];
    s[c] = t;
  }
}

IDDPM_AVX2_TARGET void col_sq_dev_avx2(const float* x, const double* mu, int hw, int C, double* s) {
  int c = 0;
  for (; c + 16 <= C; c += 16) {
    const __m256d m0 = _mm256_loadu_pd(mu + c), m1 = _mm256_loadu_pd(mu + c + 4);
    const __m256d m2 = _mm256_loadu_pd(mu + c + 8), m3 = _mm256_loadu_pd(mu + c + 12);
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    for (int i = 0; i < hw; i++) {
      const float* p = x + (long)i * C + c;
      const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(p)), m0);
      const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(p + 4)), m1);
      const __m256d d2 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(p + 8)), m2);
      const __m256d d3 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(p + 12)), m3);
      s0 = _mm256_fmadd_pd(d0, d0, s0);
      s1 = _mm256_fmadd_pd(d1, d1, s1);
      s2 = _mm256_fmadd_pd(d2, d2, s2);
      s3 = _mm256_fmadd_pd(d3, d3, s3);
    }
    _mm256_storeu_pd(s + c, s0);
    _mm256_storeu_pd(s + c + 4, s1);
    _mm256_storeu_pd(s + c + 8, s2);
    _mm256_storeu_pd(s + c + 12, s3);
  }
  for (; c + 4 <= C; c += 4) {
    const __m256d m0 = _mm256_loadu_pd(mu + c);
    __m256d s0 = _mm256_setzero_pd();
    for (int i = 0; i < hw; i++) {
      const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + (long)i * C + c)), m0);
      s0 = _mm256_fmadd_pd(d0, d0, s0);
    }
    _mm256_storeu_pd(s + c, s0);
  }
  for (; c < C; c++) {
    double t = 0;
    for (int i = 0; i < hw; i++) {
      const double d = x[(long)i * C + c] - mu[c];
      t += d * d;
    }
    s[c] = t;
  }
}

IDDPM_AVX2_TARGET void affine_avx2(const float* x, const float* m, const float* a, const float* k, float* y, int hw,
                                   int C, bool silu) {
  for (int i = 0; i < hw; i++) {
    const float* xr = x + (long)i * C;
    float* yr = y + (long)i * C;
    int c = 0;
    for (; c + 8 <= C; c += 8) {
      const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + c), _mm256_loadu_ps(m + c));
      __m256 z = _mm256_fmadd_ps(d, _mm256_loadu_ps(a + c), _mm256_loadu_ps(k + c));
      if (silu) z = _mm256_mul_ps(z, sigmoid256(z));
      _mm256_storeu_ps(yr + c, z);
    }
    for (; c < C; c++) {
      const float z = (xr[c] - m[c]) * a[c] + k[c];
      yr[c] = silu ? z * sigmoidf(z) : z;
    }
  }
}

// One row's 8 channels of grad_sums (x, dy, g at the row's channel c; m, a, k at c), into float sums.
IDDPM_AVX2_TARGET static inline __attribute__((always_inline)) void grad_step8(const float* x, const float* dy,
                                                                                const float* m, const float* a,
                                                                                const float* k, float* g, bool silu,
                                                                                __m256& f1, __m256& f3, __m256& fx) {
  const __m256 one = _mm256_set1_ps(1.f);
  const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(m));
  __m256 gv = _mm256_loadu_ps(dy);
  if (silu) {
    const __m256 z = _mm256_fmadd_ps(d, _mm256_loadu_ps(a), _mm256_loadu_ps(k));
    const __m256 sg = sigmoid256(z);
    gv = _mm256_mul_ps(gv, _mm256_mul_ps(sg, _mm256_fmadd_ps(z, _mm256_sub_ps(one, sg), one)));
    _mm256_storeu_ps(g, gv);
  }
  f1 = _mm256_add_ps(f1, gv);
  f3 = _mm256_fmadd_ps(gv, d, f3);
  fx = _mm256_add_ps(fx, d);
}

IDDPM_AVX2_TARGET static inline __attribute__((always_inline)) void add_to_double(double* s, __m256 f) {
  _mm256_storeu_pd(s, _mm256_add_pd(_mm256_loadu_pd(s), _mm256_cvtps_pd(_mm256_castps256_ps128(f))));
  _mm256_storeu_pd(s + 4, _mm256_add_pd(_mm256_loadu_pd(s + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1))));
}

// Blocks of 16 channels down kRowBlock rows at a time, the float sums in registers. SiLU'(z) = σ(z)(1 + z(1 − σ(z))).
IDDPM_AVX2_TARGET void grad_sums_avx2(const float* x, const float* dy, const float* m, const float* a,
                                      const float* k, float* g, int hw, int C, bool silu, double* s1, double* s3,
                                      double* sx) {
  for (int c = 0; c < C; c++) s1[c] = s3[c] = sx[c] = 0;
  for (int i0 = 0; i0 < hw; i0 += kRowBlock) {
    const int i1 = std::min(hw, i0 + kRowBlock);
    int c = 0;
    for (; c + 16 <= C; c += 16) {
      __m256 p0 = _mm256_setzero_ps(), p1 = p0, q0 = p0, q1 = p0, u0 = p0, u1 = p0;
      for (int i = i0; i < i1; i++) {
        const long o = (long)i * C + c;
        float* go = silu ? g + o : nullptr;
        grad_step8(x + o, dy + o, m + c, a + c, k + c, go, silu, p0, q0, u0);
        grad_step8(x + o + 8, dy + o + 8, m + c + 8, a + c + 8, k + c + 8, silu ? go + 8 : nullptr, silu, p1, q1, u1);
      }
      add_to_double(s1 + c, p0);
      add_to_double(s1 + c + 8, p1);
      add_to_double(s3 + c, q0);
      add_to_double(s3 + c + 8, q1);
      add_to_double(sx + c, u0);
      add_to_double(sx + c + 8, u1);
    }
    for (; c + 8 <= C; c += 8) {
      __m256 p0 = _mm256_setzero_ps(), q0 = p0, u0 = p0;
      for (int i = i0; i < i1; i++) {
        const long o = (long)i * C + c;
        grad_step8(x + o, dy + o, m + c, a + c, k + c, silu ? g + o : nullptr, silu, p0, q0, u0);
      }
      add_to_double(s1 + c, p0);
      add_to_double(s3 + c, q0);
      add_to_double(sx + c, u0);
    }
    for (; c < C; c++) {
      float t1 = 0, t3 = 0, tx = 0;
      for (int i = i0; i < i1; i++) {
        const long o = (long)i * C + c;
        const float d = x[o] - m[c];
        float gc = dy[o];
        if (silu) {
          const float z = d * a[c] + k[c];
          const float sg = sigmoidf(z);
          gc *= sg * (1.f + z * (1.f - sg));
          g[o] = gc;
        }
        t1 += gc;
        t3 += gc * d;
        tx += d;
      }
      s1[c] += t1;
      s3[c] += t3;
      sx[c] += tx;
    }
  }
}

IDDPM_AVX2_TARGET void input_grad_avx2(const float* g, const float* x, const float* m, const float* a,
                                       const float* q, const float* kk, float* dx, int hw, int C) {
  for (int i = 0; i < hw; i++) {
    const long o = (long)i * C;
    int c = 0;
    for (; c + 8 <= C; c += 8) {
      const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + o + c), _mm256_loadu_ps(m + c));
      const __m256 t = _mm256_fmadd_ps(d, _mm256_loadu_ps(q + c), _mm256_loadu_ps(kk + c));
      _mm256_storeu_ps(dx + o + c, _mm256_fmadd_ps(_mm256_loadu_ps(g + o + c), _mm256_loadu_ps(a + c), t));
    }
    for (; c < C; c++) dx[o + c] = g[o + c] * a[c] + ((x[o + c] - m[c]) * q[c] + kk[c]);
  }
}
#endif

void col_sum(const float* x, int hw, int C, double* s) {
#if IDDPM_X86
  if (use_avx2()) return col_sum_avx2(x, hw, C, s);
#endif
  for (int c = 0; c < C; c++) s[c] = 0;
  for (int i = 0; i < hw; i++) {
    const float* xr = x + (long)i * C;
    for (int c = 0; c < C; c++) s[c] += xr[c];
  }
}

void col_sq_dev(const float* x, const double* mu, int hw, int C, double* s) {
#if IDDPM_X86
  if (use_avx2()) return col_sq_dev_avx2(x, mu, hw, C, s);
#endif
  for (int c = 0; c < C; c++) s[c] = 0;
  for (int i = 0; i < hw; i++) {
    const float* xr = x + (long)i * C;
    for (int c = 0; c < C; c++) {
      const double d = xr[c] - mu[c];
      s[c] += d * d;
    }
  }
}

void affine(const float* x, const float* m, const float* a, const float* k, float* y, int hw, int C, bool silu) {
#if IDDPM_X86
  if (use_avx2()) return affine_avx2(x, m, a, k, y, hw, C, silu);
#endif
  for (int i = 0; i < hw; i++) {
    const float* xr = x + (long)i * C;
    float* yr = y + (long)i * C;
    for (int c = 0; c < C; c++) {
      const float z = (xr[c] - m[c]) * a[c] + k[c];
      yr[c] = silu ? z * sigmoidf(z) : z;
    }
  }
}

void grad_sums(const float* x, const float* dy, const float* m, const float* a, const float* k, float* g, int hw,
               int C, bool silu, double* s1, double* s3, double* sx) {
#if IDDPM_X86
  if (use_avx2()) return grad_sums_avx2(x, dy, m, a, k, g, hw, C, silu, s1, s3, sx);
#endif
  float* f = thread_scratch(kTile2, (size_t)3 * C);  // the float sums of one block of rows
  float *f1 = f, *f3 = f + C, *fx = f + 2 * C;
  for (int c = 0; c < C; c++) s1[c] = s3[c] = sx[c] = 0;
  for (int i0 = 0; i0 < hw; i0 += kRowBlock) {
    for (int c = 0; c < C; c++) f1[c] = f3[c] = fx[c] = 0.f;
    for (int i = i0; i < std::min(hw, i0 + kRowBlock); i++) {
      const long o = (long)i * C;
      for (int c = 0; c < C; c++) {
        const float d = x[o + c] - m[c];
        float gc = dy[o + c];
        if (silu) {
          const float z = d * a[c] + k[c];
          const float sg = sigmoidf(z);
          gc *= sg * (1.f + z * (1.f - sg));
          g[o + c] = gc;
        }
        f1[c] += gc;
        f3[c] += gc * d;
        fx[c] += d;
      }
    }
    for (int c = 0; c < C; c++) {
      s1[c] += f1[c];
      s3[c] += f3[c];
      sx[c] += fx[c];
    }
  }
}

void input_grad(const float* g, const float* x, const float* m, const float* a, const float* q, const float* kk,
                float* dx, int hw, int C) {
#if IDDPM_X86
  if (use_avx2()) return input_grad_avx2(g, x, m, a, q, kk, dx, hw, C);
#endif
  for (int i = 0; i < hw; i++) {
    const long o = (long)i * C;
    for (int c = 0; c < C; c++) dx[o + c] = g[o + c] * a[c] + ((x[o + c] - m[c]) * q[c] + kk[c]);
  }
}

// Per-thread scratch for one image: `doubles`·C doubles (first, for alignment), then `floats`·C floats.
double* image_scratch(int C, int doubles, int floats) {
  return reinterpret_cast<double*>(thread_scratch(kTile0, (size_t)(2 * doubles + floats) * C));
}

// μ (double) per group of image xb, into mean_g (as float) and v.mu (per channel); v.m = float(μ) per channel.
// `acc`: C doubles of scratch.
void image_mean(const float* xb, int HW, int C, int G, double* acc, float* mean_g, const ChannelVectors& v) {
  const int cg = C / G;
  col_sum(xb, HW, C, acc);
  const double denom = (double)HW * cg;
  for (int gi = 0; gi < G; gi++) {
    double s = 0;
    for (int j = 0; j < cg; j++) s += acc[gi * cg + j];
    const double mu = s / denom;
    if (mean_g) mean_g[gi] = (float)mu;
    for (int j = 0; j < cg; j++) {
      v.mu[gi * cg + j] = mu;
      v.m[gi * cg + j] = (float)mu;
    }
  }
}

// a = rγ(1+s), k = (β − δ·rγ)(1+s) + t per channel, from r per group and δ = μ − m (the same in both passes).
void affine_constants(const float* gamma, const float* beta, const float* r, const float* scale, const float* shift,
                      int C, int G, const ChannelVectors& v, float* a0) {
  const int cg = C / G;
  for (int c = 0; c < C; c++) {
    a0[c] = r[c / cg] * gamma[c];
    const float k0 = (float)((double)beta[c] - (v.mu[c] - (double)v.m[c]) * a0[c]);
    const float s1 = scale ? 1.f + scale[c] : 1.f;
    v.a[c] = a0[c] * s1;
    v.k[c] = scale ? k0 * s1 + shift[c] : k0;
  }
}

}  // namespace

void group_norm_forward(const float* x, const float* gamma, const float* beta, const float* scale,
                        const float* shift, float* y, float* mean, float* rstd, int B, int HW, int C, int G,
                        float eps, bool silu) {
  const int cg = C / G;
  pool().run(B, [&](int b, int) {
    const float* xb = x + (long)b * HW * C;
    double* acc = image_scratch(C, 2, 4);  // doubles: sums | μ
    float* f = reinterpret_cast<float*>(acc + 2 * C);
    const ChannelVectors v{f, f + C, f + 2 * C, acc + C};
    float* a0 = f + 3 * C;
    float* mean_b = mean + (long)b * G;
    float* r = rstd + (long)b * G;
    image_mean(xb, HW, C, G, acc, mean_b, v);
    col_sq_dev(xb, v.mu, HW, C, acc);
    const double denom = (double)HW * cg;
    for (int gi = 0; gi < G; gi++) {
      double s = 0;
      for (int j = 0; j < cg; j++) s += acc[gi * cg + j];
      r[gi] = (float)(1.0 / std::sqrt(s / denom + (double)eps));
    }
    affine_constants(gamma, beta, r, scale ? scale + (long)b * C : nullptr, shift ? shift + (long)b * C : nullptr, C,
                     G, v, a0);
    affine(xb, v.m, v.a, v.k, y + (long)b * HW * C, HW, C, silu);
  }, kGroupNorm, 3.0 * B * HW * C);
}

void group_norm_backward(const float* x, const float* gamma, const float* beta, const float* scale,
                         const float* shift, const float* mean, const float* rstd, const float* dy, float* dx,
                         float* dgamma, float* dbeta, float* dscale, float* dshift, int B, int HW, int C, int G,
                         bool silu) {
  const int cg = C / G;
  const double denom = (double)HW * cg;
  // [B][C] dγ terms, then [B][C] dβ terms, in double.
  double* per_b = reinterpret_cast<double*>(thread_scratch(kTile4, (size_t)4 * B * C));
  pool().run(B, [&](int b, int) {
    const long off = (long)b * HW * C;
    const float* xb = x + off;
    const float* r = rstd + (long)b * G;
    const float* mean_b = mean + (long)b * G;
    double* acc = image_scratch(C, 4, 6);  // doubles: sums | μ | s3 | sx
    double *s1 = acc, *s3 = acc + 2 * C, *sx = acc + 3 * C;
    float* f = reinterpret_cast<float*>(acc + 4 * C);
    const ChannelVectors v{f, f + C, f + 2 * C, acc + C};
    float *a0 = f + 3 * C, *q = f + 4 * C, *kk = f + 5 * C;
    // z (for SiLU') needs δ = μ − m in K; δ·rγ is below z's own rounding unless |m|·r is large (a group far from
    // zero against its spread): only then is μ summed again here, as in the forward (the same z).
    bool exact_z = false;
    for (int gi = 0; silu && gi < G; gi++) exact_z |= std::fabs(mean_b[gi]) * r[gi] > 1.f;
    if (exact_z) image_mean(xb, HW, C, G, acc, nullptr, v);
    for (int c = 0; c < C; c++) {
      v.m[c] = mean_b[c / cg];
      if (!exact_z) v.mu[c] = v.m[c];
    }
    affine_constants(gamma, beta, r, scale ? scale + (long)b * C : nullptr, shift ? shift + (long)b * C : nullptr, C,
                     G, v, a0);
    float* gbuf = silu ? thread_scratch(kTile1, (size_t)HW * C) : nullptr;
    grad_sums(xb, dy + off, v.m, v.a, v.k, gbuf, HW, C, silu, s1, s3, sx);
    const float* g = silu ? gbuf : dy + off;
    double* dgb = per_b + (long)b * C;
    double* dbb = per_b + (long)(B + b) * C;
    for (int gi = 0; gi < G; gi++) {
      double delta = 0;  // μ − m, exactly: Σ(x − m)/n
      for (int j = 0; j < cg; j++) delta += sx[gi * cg + j];
      delta /= denom;
      const double rg = r[gi];
      double m1 = 0, m2 = 0;
      for (int j = 0; j < cg; j++) {
        const int c = gi * cg + j;
        double t1 = s1[c], t3 = s3[c] - delta * s1[c];  // Σ g, Σ g·(x − μ)
        if (scale) {
          dshift[(long)b * C + c] = (float)t1;
          dscale[(long)b * C + c] = (float)((double)a0[c] * t3 + (double)beta[c] * t1);
          const double sc = 1.0 + (double)scale[(long)b * C + c];
          t1 *= sc;
          t3 *= sc;
        }
        const double gr = rg * t3;  // HW·G of the comment above
        dbb[c] = t1;
        dgb[c] = gr;
        m1 += t1 * gamma[c];
        m2 += gr * gamma[c];
      }
      m1 /= denom;
      m2 /= denom;
      const double qg = -rg * rg * m2;
      for (int j = 0; j < cg; j++) {
        q[gi * cg + j] = (float)qg;
        kk[gi * cg + j] = (float)(-rg * m1 - qg * delta);
      }
    }
    input_grad(g, xb, v.m, v.a, q, kk, dx + off, HW, C);
  }, kGroupNorm, 5.0 * B * HW * C);
  for (int c = 0; c < C; c++) {
    double sg = 0, sb = 0;
    for (int b = 0; b < B; b++) {
      sg += per_b[(long)b * C + c];
      sb += per_b[(long)(B + b) * C + c];
    }
    dgamma[c] = (float)sg;
    dbeta[c] = (float)sb;
  }
}

}  // namespace iddpm
