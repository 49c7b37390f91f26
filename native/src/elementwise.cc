// Element-wise addition of two float32 arrays of the same length, over the pool: tfjs's wasm Add runs on one
// thread, and a training step adds many activation-sized tensors (residuals, and the gradients tfjs accumulates
// for every tensor used twice). One IEEE add per element, as tfjs's: the same bits.
#include <algorithm>

#include "common.h"
#include "kernels.h"

namespace iddpm {

void add_same(const float* a, const float* b, float* out, long n) {
  constexpr long kChunk = 1 << 15;
  const int tasks = static_cast<int>((n + kChunk - 1) / kChunk);
  pool().run(tasks, [&](int t, int) {
    const long lo = (long)t * kChunk, hi = std::min(n, lo + kChunk);
    for (long i = lo; i < hi; i++) out[i] = a[i] + b[i];
  }, kElementwise, (double)n);
}

}  // namespace iddpm
