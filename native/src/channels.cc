// Concatenation along the last (channel) axis of two NHWC tensors, and its gradient (the split back): each of
// the `rows` = B·H·W pixels copies ca then cb contiguous floats. Pure copies, split into row blocks over the pool
// (tfjs's Concat and SplitV run on one thread).
#include <algorithm>
#include <cstring>

#include "common.h"
#include "kernels.h"

namespace iddpm {

namespace {

template <typename Fn>
void for_row_blocks(long rows, long width, Fn&& fn) {
  // ~64K floats per task.
  const long per = std::max(1L, (1L << 16) / std::max(1L, width));
  const int tasks = static_cast<int>((rows + per - 1) / per);
  pool().run(tasks, [&](int t, int) {
    const long lo = (long)t * per;
    fn(lo, std::min(rows, lo + per));
  }, kElementwise, (double)rows * width);
}

}  // namespace

void concat_channels(const float* a, const float* b, float* out, long rows, long ca, long cb) {
  const long c = ca + cb;
  for_row_blocks(rows, c, [&](long lo, long hi) {
    for (long r = lo; r < hi; r++) {
      std::memcpy(out + r * c, a + r * ca, sizeof(float) * ca);
      std::memcpy(out + r * c + ca, b + r * cb, sizeof(float) * cb);
    }
  });
}

void split_channels(const float* x, float* a, float* b, long rows, long ca, long cb) {
  const long c = ca + cb;
  for_row_blocks(rows, c, [&](long lo, long hi) {
    for (long r = lo; r < hi; r++) {
      std::memcpy(a + r * ca, x + r * c, sizeof(float) * ca);
      std::memcpy(b + r * cb, x + r * c + ca, sizeof(float) * cb);
    }
  });
}

}  // namespace iddpm
