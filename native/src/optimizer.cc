// The per-step parameter updates on the flat parameter vector: AdamW (as torch.optim.AdamW, the reference's
// optimizer) and the EMA. Element-wise, so split into contiguous chunks over the pool.
//
// Bit-for-bit the same as the tfjs path (train/adamw.ts, train/ema.ts): every operation is one IEEE float32
// operation in the same order, with the scalars rounded to float32 as tfjs rounds a JS number into a scalar
// tensor. So no fused multiply-add may appear: this file uses no FMA target (the x86-64 baseline has none, so the
// compiler cannot contract a*b+c), and the pragmas below forbid contraction for any target (only in this file:
// the other kernels keep theirs). The loops are memory-bound (AdamW reads 4 and writes 3 floats per parameter);
// -O3 vectorises them with SSE.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"
#include "kernels.h"

namespace iddpm {

namespace {

constexpr long kChunk = 1 << 15;  // elements per task: 128 KiB per array, a few arrays stay in L2

template <typename Fn>
void for_chunks(long n, double flops_per_element, Fn&& fn) {
  const int tasks = static_cast<int>((n + kChunk - 1) / kChunk);
  pool().run(tasks, [&](int t, int) {
    const long lo = (long)t * kChunk;
    fn(lo, std::min(n, lo + kChunk));
  }, kElementwise, flops_per_element * (double)n);
}

}  // namespace

double adamw_step(const float* param, const float* grad, const float* m, const float* v, float* param_out,
                  float* m_out, float* v_out, long n, const AdamWScalars& s) {
  const float beta1 = s.beta1, one_minus_beta1 = s.one_minus_beta1, beta2 = s.beta2,
              one_minus_beta2 = s.one_minus_beta2, decay = s.decay, bias_correction2_sqrt = s.bias_correction2_sqrt,
              eps = s.eps, step_size = s.step_size;
  // Σ g² for the gradient norm, read in the same pass: one double partial per chunk, summed in chunk order, so the
  // result does not depend on the thread count.
  std::vector<double> partial((n + kChunk - 1) / kChunk, 0.0);
  for_chunks(n, 14, [&](long lo, long hi) {
    for (long i = lo; i < hi; i++) {
      const float g = grad[i];
      const float mi = m[i] * beta1 + g * one_minus_beta1;            // add(mul(m, β1), mul(g, 1−β1))
      const float vi = v[i] * beta2 + (g * g) * one_minus_beta2;      // add(mul(v, β2), mul(square(g), 1−β2))
      const float denom = std::sqrt(vi) / bias_correction2_sqrt + eps;  // add(div(sqrt(v), √bc2), eps)
      param_out[i] = param[i] * decay - (mi / denom) * step_size;      // sub(p·(1−lr·wd), mul(div(m, denom), lr/bc1))
      m_out[i] = mi;
      v_out[i] = vi;
    }
    // A second loop over the chunk (still in cache), so the update loop above stays vectorised: four independent
    // accumulators in a fixed order.
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    long i = lo;
    for (; i + 4 <= hi; i += 4)
      for (int j = 0; j < 4; j++) acc[j] += (double)grad[i + j] * (double)grad[i + j];
    for (; i < hi; i++) acc[0] += (double)grad[i] * (double)grad[i];
    partial[lo / kChunk] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

void ema_update(const float* ema, const float* param, float* out, long n, float rate, float one_minus_rate) {
  for_chunks(n, 3, [&](long lo, long hi) {
    for (long i = lo; i < hi; i++) out[i] = ema[i] * rate + param[i] * one_minus_rate;  // add(mul(e, r), mul(p, 1−r))
  });
}

}  // namespace iddpm
