// GroupNorm (+ scale/shift) (+ SiLU) over NHWC, one task per image. Same formulas as groupNormFast
// (ops/groupNorm.ts): forward μ, σ² two-pass, r = 1/√(σ²+ε), n = x·A₀ + K₀ with A₀ = rγ, K₀ = β − μrγ; with a
// per-image scale/shift z = n·(1+s) + t is still per-channel affine: z = x·A + K, A = A₀(1+s), K = K₀(1+s) + t;
// then y = z·σ(z) or z. Backward with g = dy·SiLU'(z) (or dy), S1 = Σ_hw g, S3 = Σ_hw g·x per channel:
//   dt = S1, ds = A₀S3 + K₀S1; the GroupNorm sees g' = g(1+s), so M1 = (1+s)S1/HW, M3 = (1+s)S3/HW,
//   G = r(M3 − μM1), dβ = HW Σ_b M1, dγ = HW Σ_b G, m1 = mean_grp γM1, m2 = mean_grp γG,
//   dx = g·A + x·(−r²m2) + r(μ r m2 − m1).
#include <cmath>
#include <cstring>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "vmath.h"

namespace iddpm {

namespace {

// y[i] = silu ? z·σ(z) : z with z = x[i]·a[c] + k[c], over hw rows of C channels.
#if IDDPM_X86
IDDPM_AVX2_TARGET void affine_avx2(const float* x, const float* a, const float* k, float* y, int hw, int C, bool silu) {
  for (int i = 0; i < hw; i++) {
    const float* xr = x + (long)i * C;
    float* yr = y + (long)i * C;
    int c = 0;
    for (; c + 8 <= C; c += 8) {
      __m256 z = _mm256_fmadd_ps(_mm256_loadu_ps(xr + c), _mm256_loadu_ps(a + c), _mm256_loadu_ps(k + c));
      if (silu) z = _mm256_mul_ps(z, sigmoid256(z));
      _mm256_storeu_ps(yr + c, z);
    }
    for (; c < C; c++) {
      const float z = xr[c] * a[c] + k[c];
      yr[c] = silu ? z * sigmoidf(z) : z;
    }
  }
}

// g = dy·SiLU'(z), z = x·a + k; SiLU'(z) = σ(z)(1 + z(1 − σ(z))).
IDDPM_AVX2_TARGET void silu_grad_avx2(const float* x, const float* a, const float* k, const float* dy, float* g, int hw,
                                      int C) {
  const __m256 one = _mm256_set1_ps(1.f);
  for (int i = 0; i < hw; i++) {
    const long o = (long)i * C;
    int c = 0;
    for (; c + 8 <= C; c += 8) {
      const __m256 z = _mm256_fmadd_ps(_mm256_loadu_ps(x + o + c), _mm256_loadu_ps(a + c), _mm256_loadu_ps(k + c));
      const __m256 sg = sigmoid256(z);
      const __m256 d = _mm256_mul_ps(sg, _mm256_fmadd_ps(z, _mm256_sub_ps(one, sg), one));
      _mm256_storeu_ps(g + o + c, _mm256_mul_ps(_mm256_loadu_ps(dy + o + c), d));
    }
    for (; c < C; c++) {
      const float z = x[o + c] * a[c] + k[c];
      const float sg = sigmoidf(z);
      g[o + c] = dy[o + c] * sg * (1.f + z * (1.f - sg));
    }
  }
}
#endif

void affine(const float* x, const float* a, const float* k, float* y, int hw, int C, bool silu) {
#if IDDPM_X86
  if (use_avx2()) return affine_avx2(x, a, k, y, hw, C, silu);
#endif
  for (int i = 0; i < hw; i++) {
    const float* xr = x + (long)i * C;
    float* yr = y + (long)i * C;
    for (int c = 0; c < C; c++) {
      const float z = xr[c] * a[c] + k[c];
      yr[c] = silu ? z * sigmoidf(z) : z;
    }
  }
}

void silu_grad(const float* x, const float* a, const float* k, const float* dy, float* g, int hw, int C) {
#if IDDPM_X86
  if (use_avx2()) return silu_grad_avx2(x, a, k, dy, g, hw, C);
#endif
  for (long i = 0; i < (long)hw * C; i++) {
    const int c = (int)(i % C);
    const float z = x[i] * a[c] + k[c];
    const float sg = sigmoidf(z);
    g[i] = dy[i] * sg * (1.f + z * (1.f - sg));
  }
}

// Per-image statistics: mean and rstd per group, and per-channel A, K.
void image_stats(const float* xb, const float* gamma, const float* beta, int HW, int C, int G, float eps,
                 float* mean_g, float* rstd_g, float* a, float* k) {
  const int cg = C / G;
  std::vector<float> acc(C, 0.f), muc(C);
  for (int i = 0; i < HW; i++) {
    const float* xr = xb + (long)i * C;
    for (int c = 0; c < C; c++) acc[c] += xr[c];
  }
  const double denom = (double)HW * cg;
  for (int gi = 0; gi < G; gi++) {
    double s = 0;
    for (int j = 0; j < cg; j++) s += acc[gi * cg + j];
    mean_g[gi] = (float)(s / denom);
    for (int j = 0; j < cg; j++) muc[gi * cg + j] = mean_g[gi];
  }
  std::fill(acc.begin(), acc.end(), 0.f);
  for (int i = 0; i < HW; i++) {
    const float* xr = xb + (long)i * C;
    for (int c = 0; c < C; c++) {
      const float dlt = xr[c] - muc[c];
      acc[c] += dlt * dlt;
    }
  }
  for (int gi = 0; gi < G; gi++) {
    double s = 0;
    for (int j = 0; j < cg; j++) s += acc[gi * cg + j];
    const float var = (float)(s / denom);
    rstd_g[gi] = 1.f / std::sqrt(var + eps);
    for (int j = 0; j < cg; j++) {
      const int c = gi * cg + j;
      a[c] = rstd_g[gi] * gamma[c];
      k[c] = beta[c] - mean_g[gi] * a[c];
    }
  }
}

}  // namespace

void group_norm_forward(const float* x, const float* gamma, const float* beta, const float* scale,
                        const float* shift, float* y, float* mean, float* rstd, int B, int HW, int C, int G,
                        float eps, bool silu) {
  pool().run(B, [&](int b, int) {
    const float* xb = x + (long)b * HW * C;
    float* ak = thread_scratch(kTile0, (size_t)2 * C);
    image_stats(xb, gamma, beta, HW, C, G, eps, mean + (long)b * G, rstd + (long)b * G, ak, ak + C);
    if (scale) {
      const float* sb = scale + (long)b * C;
      const float* tb = shift + (long)b * C;
      for (int c = 0; c < C; c++) {
        const float s1 = 1.f + sb[c];
        ak[c] *= s1;
        ak[C + c] = ak[C + c] * s1 + tb[c];
      }
    }
    affine(xb, ak, ak + C, y + (long)b * HW * C, HW, C, silu);
  }, kGroupNorm, 3.0 * B * HW * C);
}

void group_norm_backward(const float* x, const float* gamma, const float* beta, const float* scale,
                         const float* shift, const float* mean, const float* rstd, const float* dy, float* dx,
                         float* dgamma, float* dbeta, float* dscale, float* dshift, int B, int HW, int C, int G,
                         bool silu) {
  const int cg = C / G;
  float* per_b = thread_scratch(kTile4, (size_t)2 * B * C);  // [B][C] dγ terms, then [B][C] dβ terms
  pool().run(B, [&](int b, int) {
    const long off = (long)b * HW * C;
    const float* xb = x + off;
    const float* mu = mean + (long)b * G;
    const float* r = rstd + (long)b * G;
    float* v = thread_scratch(kTile0, (size_t)8 * C);
    float *a = v, *k = v + C, *m1c = v + 2 * C, *m3c = v + 3 * C, *q = v + 4 * C, *kk = v + 5 * C;
    float *a0 = v + 6 * C, *k0 = v + 7 * C;
    for (int c = 0; c < C; c++) {
      const int gi = c / cg;
      a0[c] = r[gi] * gamma[c];
      k0[c] = beta[c] - mu[gi] * a0[c];
      const float s1 = scale ? 1.f + scale[(long)b * C + c] : 1.f;
      a[c] = a0[c] * s1;
      k[c] = k0[c] * s1 + (scale ? shift[(long)b * C + c] : 0.f);
    }
    const float* g = dy + off;
    if (silu) {
      float* gbuf = thread_scratch(kTile1, (size_t)HW * C);
      silu_grad(xb, a, k, dy + off, gbuf, HW, C);
      g = gbuf;
    }
    for (int c = 0; c < C; c++) m1c[c] = m3c[c] = 0.f;
    for (int i = 0; i < HW; i++) {
      const float* gr = g + (long)i * C;
      const float* xr = xb + (long)i * C;
      for (int c = 0; c < C; c++) {
        m1c[c] += gr[c];
        m3c[c] += gr[c] * xr[c];
      }
    }
    if (scale) {
      for (int c = 0; c < C; c++) {
        dshift[(long)b * C + c] = m1c[c];
        dscale[(long)b * C + c] = a0[c] * m3c[c] + k0[c] * m1c[c];
        const float s1 = 1.f + scale[(long)b * C + c];
        m1c[c] *= s1;
        m3c[c] *= s1;
      }
    }
    float* dgb = per_b + (long)b * C;
    float* dbb = per_b + (long)(B + b) * C;
    for (int gi = 0; gi < G; gi++) {
      double s1 = 0, s2 = 0;
      for (int j = 0; j < cg; j++) {
        const int c = gi * cg + j;
        const float M1 = m1c[c] / HW, M3 = m3c[c] / HW;
        const float Gc = r[gi] * (M3 - mu[gi] * M1);
        dbb[c] = M1 * HW;
        dgb[c] = Gc * HW;
        s1 += (double)M1 * gamma[c];
        s2 += (double)Gc * gamma[c];
      }
      const float m1 = (float)(s1 / cg), m2 = (float)(s2 / cg);
      const float qg = -r[gi] * r[gi] * m2;
      const float kg = r[gi] * (mu[gi] * r[gi] * m2 - m1);
      for (int j = 0; j < cg; j++) {
        q[gi * cg + j] = qg;
        kk[gi * cg + j] = kg;
      }
    }
    float* dxb = dx + off;
    for (int i = 0; i < HW; i++) {
      const float* gr = g + (long)i * C;
      const float* xr = xb + (long)i * C;
      float* d = dxb + (long)i * C;
      for (int c = 0; c < C; c++) d[c] = gr[c] * a[c] + xr[c] * q[c] + kk[c];
    }
  }, kGroupNorm, 5.0 * B * HW * C);
  for (int c = 0; c < C; c++) {
    float sg = 0.f, sb = 0.f;
    for (int b = 0; b < B; b++) {
      sg += per_b[(long)b * C + c];
      sb += per_b[(long)(B + b) * C + c];
    }
    dgamma[c] = sg;
    dbeta[c] = sb;
  }
}

}  // namespace iddpm
