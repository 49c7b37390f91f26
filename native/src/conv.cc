// Convolutions (NHWC input, HWIO filter) as GEMMs without an im2col buffer: the micro-kernels read the input
// through per-tap pointer tables (a pointer to the pixel's channel run, or to zeros in the padding).
//  - forward: Y[B·Ho·Wo, Co] = cols(X) · W[KH·KW·Ci, Co]; 6 positions × 16 channels per micro-tile (12 × 32 with
//    AVX-512, gemm.h), blocks of positions split into tasks;
//  - input gradient, stride 1: a forward conv of dy with the filter rotated 180° and in/out swapped;
//    stride > 1: per image, dcols = dy · Wᵀ, then col2im (scatter-add), images split into tasks;
//  - filter gradient: dWᵀ[Co, K] = Σ_p dy[p]ᵀ · cols(X)[p] with both sides packed per chunk of positions (output
//    × input channels per micro-tile), chunks summed in a fixed order into a fixed number of partials (identical
//    results for any thread count), plus db = Σ dy.
#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "kernels.h"

namespace iddpm {

namespace {

constexpr int kTileRows = 48;     // output positions per forward task block (8 micro-tiles)
constexpr int kChunk = 128;       // positions per filter-gradient chunk (its packed x and dy slices fit L2)
constexpr int kMaxGroups = 8;     // filter-gradient partial sums (fixed by the shape, not the thread count)

// Pointers of one micro-tile (rows m0 .. m0+mr of the output) for every tap: ptrs[t·MR + r] → x[b, ih, iw, 0]
// or `zeros` when the tap falls into the padding (rows ≥ mr also read zeros).
void tile_pointers(const float* x, const float* zeros, const ConvGeom& g, int m0, int mr, const float** ptrs) {
  const int hw = g.Ho * g.Wo;
  const int taps = g.KH * g.KW;
  for (int r = 0; r < MR; r++) {
    if (r >= mr) {
      for (int t = 0; t < taps; t++) ptrs[t * MR + r] = zeros;
      continue;
    }
    const int m = m0 + r;
    const int b = m / hw, rem = m - b * hw;
    const int oh = rem / g.Wo, ow = rem - oh * g.Wo;
    const int ih0 = oh * g.stride - g.pt, iw0 = ow * g.stride - g.pl;
    const float* xb = x + (long)b * g.H * g.W * g.Ci;
    for (int kh = 0; kh < g.KH; kh++) {
      const int ih = ih0 + kh;
      for (int kw = 0; kw < g.KW; kw++) {
        const int iw = iw0 + kw;
        ptrs[(kh * g.KW + kw) * MR + r] =
            (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) ? xb + ((long)ih * g.W + iw) * g.Ci : zeros;
      }
    }
  }
}

}  // namespace

static void conv_forward(const float* x, const float* w, const float* bias, const float* residual, float* y,
                         const ConvGeom& g, WorkKind kind) {
  const int m = g.B * g.Ho * g.Wo;
  const int taps = g.KH * g.KW;
  const int k = taps * g.Ci;
  const int n = g.Co;
  if (m == 0 || n == 0) return;
  float* bp = thread_scratch(kPackB, packed_b_size(n, k));
  pack_b_strips(bp, n, k, PackBRowMajor{w, n});
  std::vector<float> zeros(g.Ci, 0.f);
  // Small problems run as one task (handing out work costs more than it saves).
  const long work = (long)m * n * k;
  const int block = work < 2000000 ? m : kTileRows;
  const int tasks = (m + block - 1) / block;
  pool().run(tasks, [&](int t, int) {
    const int r0 = t * block, r1 = std::min(m, r0 + block);
    const int tiles = (r1 - r0 + MR - 1) / MR;
    const float** ptrs = reinterpret_cast<const float**>(thread_scratch(kTile0, (size_t)tiles * taps * MR * 2));
    for (int i = 0; i < tiles; i++) {
      const int m0 = r0 + i * MR;
      tile_pointers(x, zeros.data(), g, m0, std::min(MR, r1 - m0), ptrs + (long)i * taps * MR);
    }
    indirect_block(taps, g.Ci, ptrs, r1 - r0, bp, n, y + (long)r0 * n, n, false, bias);
    // The residual goes onto the finished block while it is still in cache: (conv + bias) + residual, the same
    // float operations as a separate add, so the same bits.
    if (residual) {
      const long lo = (long)r0 * n, hi = (long)r1 * n;
      for (long i = lo; i < hi; i++) y[i] += residual[i];
    }
  }, kind, (double)work);
}

void conv2d_forward(const float* x, const float* w, const float* bias, const float* residual, float* y,
                    const ConvGeom& g) {
  conv_forward(x, w, bias, residual, y, g, kConvForward);
}

void conv2d_input_grad(const float* dy, const float* w, float* dx, const ConvGeom& g) {
  const long in_size = (long)g.B * g.H * g.W * g.Ci;
  if (in_size == 0) return;
  const int taps = g.KH * g.KW;
  if (g.stride == 1) {
    // dx = conv(dy, rot180(w) with in/out swapped), padding KH−1−pt / KW−1−pl, output H×W.
    std::vector<float> wr((size_t)taps * g.Co * g.Ci);
    for (int t = 0; t < taps; t++) {
      const float* src = w + (long)(taps - 1 - t) * g.Ci * g.Co;  // [Ci, Co]
      float* dst = wr.data() + (long)t * g.Co * g.Ci;              // [Co, Ci]
      for (int ci = 0; ci < g.Ci; ci++)
        for (int co = 0; co < g.Co; co++) dst[(long)co * g.Ci + ci] = src[(long)ci * g.Co + co];
    }
    ConvGeom r{g.B, g.Ho, g.Wo, g.Co, g.KH, g.KW, g.Ci, 1, g.KH - 1 - g.pt, g.KW - 1 - g.pl, g.H, g.W};
    conv_forward(dy, wr.data(), nullptr, nullptr, dx, r, kConvInputGrad);
    return;
  }
  // Strided: per image, dcols[Ho·Wo, K] = dy_img · Wᵀ, then scatter-add (col2im) into dx_img.
  const int k = taps * g.Ci;
  const int hw = g.Ho * g.Wo;
  const long img_in = (long)g.H * g.W * g.Ci;
  float* bt = thread_scratch(kPackB, packed_b_size(k, g.Co));
  pack_b_strips(bt, k, g.Co, PackBTransposed{w, g.Co});
  const int tiles = (hw + MR - 1) / MR;
  std::vector<float> zeros(g.Co, 0.f);
  pool().run(g.B, [&](int b, int) {
    float* dxb = dx + b * img_in;
    std::memset(dxb, 0, img_in * sizeof(float));
    if (hw == 0) return;
    float* cols = thread_scratch(kTile1, (size_t)hw * k);
    const float* dyb = dy + (long)b * hw * g.Co;
    // One tap per tile: row r of tile i is dy's pixel i·MR + r (zeros past the image's last one).
    const float** ptrs = reinterpret_cast<const float**>(thread_scratch(kTile0, (size_t)tiles * MR * 2));
    for (int m = 0; m < tiles * MR; m++) ptrs[m] = m < hw ? dyb + (long)m * g.Co : zeros.data();
    indirect_block(1, g.Co, ptrs, hw, bt, k, cols, k, false);
    for (int oh = 0; oh < g.Ho; oh++) {
      for (int ow = 0; ow < g.Wo; ow++) {
        const float* c = cols + ((long)oh * g.Wo + ow) * k;
        for (int kh = 0; kh < g.KH; kh++) {
          const int ih = oh * g.stride - g.pt + kh;
          if (ih < 0 || ih >= g.H) continue;
          for (int kw = 0; kw < g.KW; kw++) {
            const int iw = ow * g.stride - g.pl + kw;
            if (iw < 0 || iw >= g.W) continue;
            float* d = dxb + ((long)ih * g.W + iw) * g.Ci;
            const float* src = c + (long)(kh * g.KW + kw) * g.Ci;
            for (int ci = 0; ci < g.Ci; ci++) d[ci] += src[ci];
          }
        }
      }
    }
  }, kConvInputGrad, 2.0 * g.B * hw * k * g.Co);
}

void conv2d_filter_grad(const float* x, const float* dy, float* dw, float* db, const ConvGeom& g) {
  const int m = g.B * g.Ho * g.Wo;
  const int taps = g.KH * g.KW;
  const int k = taps * g.Ci;
  const int co = g.Co;
  if (m == 0) {
    std::memset(dw, 0, (size_t)k * co * sizeof(float));
    if (db) std::memset(db, 0, co * sizeof(float));
    return;
  }
  // dWᵀ[co, (tap, ci)] = Σ_p dy[p, co] · x[pixel(p, tap), ci], positions in chunks, chunks in a fixed
  // number of groups (each summed in order into its own partial), partials summed in group order.
  // Chunks of kChunk = 128 positions, the summation order the studio's filter gradients have always had. 256
  // measured ~8% faster on this kernel alone, but it regroups the float sums, which moves every trained model a
  // little (enough to move the sample-quality test's noise images into the real digits' k-NN balls).
  const int chunks = (m + kChunk - 1) / kChunk;
  const int groups = std::min(kMaxGroups, chunks);
  const size_t part = (size_t)co * k;
  float* partial = thread_scratch(kTile2, part * groups);
  float* dbp = thread_scratch(kTile3, (size_t)co * groups);
  const int hw = g.Ho * g.Wo;
  // Both operands are packed per chunk, so the micro-kernels read them strictly in sequence: dy's chunk once, as
  // MR-channel panels [len][MR] (the A side, rows = output channels); each tap's slice of x as NR-channel strips
  // [len][NR] (the B side, zero past Ci).
  const int xstrips = (g.Ci + NR - 1) / NR;
  const int xfull = g.Ci / NR;             // strips of x with all NR channels (copied 64 bytes at a time)
  const int xrest = g.Ci - xfull * NR;     // channels in the last, partial strip
  const int copanels = (co + MR - 1) / MR;
  pool().run(groups, [&](int gi, int) {
    const int c0 = (int)((long)chunks * gi / groups), c1 = (int)((long)chunks * (gi + 1) / groups);
    float* pg = partial + gi * part;
    float* dbg = dbp + (long)gi * co;
    for (int j = 0; j < co; j++) dbg[j] = 0.f;
    float* xs = thread_scratch(kTile1, (size_t)kChunk * xstrips * NR);
    float* dys = thread_scratch(kPackA, (size_t)kChunk * copanels * MR);
    int ih0[kChunk], iw0[kChunk];
    const float* xb[kChunk];
    for (int ch = c0; ch < c1; ch++) {
      const int p0 = ch * kChunk, len = std::min(m, p0 + kChunk) - p0;
      for (int i = 0; i < len; i++) {
        const int mm = p0 + i;
        const int b = mm / hw, rem = mm - b * hw;
        const int oh = rem / g.Wo, ow = rem - oh * g.Wo;
        ih0[i] = oh * g.stride - g.pt;
        iw0[i] = ow * g.stride - g.pl;
        xb[i] = x + (long)b * g.H * g.W * g.Ci;
      }
      const float* dyc = dy + (long)p0 * co;
      const bool acc = ch > c0;
      const PackATransposed dyt{dyc, co};  // element (channel o, position p) at dyc[p·co + o]
      for (int o0 = 0; o0 < co; o0 += MR) dyt(dys + (long)o0 * len, o0, std::min(MR, co - o0), 0, len);
      const PackedB xsb{xs, g.Ci, len, xstrips};
      const long step = (long)len * NR;  // from one strip of xs to the next
      for (int kh = 0; kh < g.KH; kh++) {
        for (int kw = 0; kw < g.KW; kw++) {
          const int t = kh * g.KW + kw;
          for (int i = 0; i < len; i++) {
            const int ih = ih0[i] + kh, iw = iw0[i] + kw;
            const bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
            const float* src = inside ? xb[i] + ((long)ih * g.W + iw) * g.Ci : nullptr;
            // Whole strips as fixed-size 64-byte copies (inlined as vector moves), then the partial last one.
            float* dst = xs + (long)i * NR;
            if (src) {
              for (int s = 0; s < xfull; s++, dst += step) std::memcpy(dst, src + s * NR, NR * sizeof(float));
            } else {
              for (int s = 0; s < xfull; s++, dst += step) std::memset(dst, 0, NR * sizeof(float));
            }
            if (xrest > 0)
              for (int j = 0; j < NR; j++) dst[j] = src && j < xrest ? src[xfull * NR + j] : 0.f;
          }
          // dWᵀ[:, tap t] (+)= dy[chunk]ᵀ · x[chunk, tap]: rows = output channels, columns = this tap's input
          // channels; per element Σ_p in position order, as every kernel here.
          micro_block(len, dys, co, xsb, 0, pg + (long)t * g.Ci, k, acc);
        }
      }
      for (int i = 0; i < len; i++) {
        const float* r = dyc + (long)i * co;
        for (int j = 0; j < co; j++) dbg[j] += r[j];
      }
    }
  }, kConvFilterGrad, 2.0 * m * k * co);
  // Σ partials in group order (contiguous, in place into partial 0), then transpose [co][k] → dw[k][co].
  const int slices = std::max(1, std::min(16, (int)(part / 4096)));
  pool().run(slices, [&](int t, int) {
    const size_t i0 = part * t / slices, i1 = part * (t + 1) / slices;
    for (int gi = 1; gi < groups; gi++) {
      const float* src = partial + gi * part;
      for (size_t i = i0; i < i1; i++) partial[i] += src[i];
    }
  }, kReduce, (double)part * groups);
  constexpr int TB = 32;
  for (int q0 = 0; q0 < k; q0 += TB)
    for (int o0 = 0; o0 < co; o0 += TB)
      for (int q = q0; q < std::min(k, q0 + TB); q++)
        for (int o = o0; o < std::min(co, o0 + TB); o++) dw[(long)q * co + o] = partial[(long)o * k + q];
  if (db) {
    for (int j = 0; j < co; j++) db[j] = dbp[j];
    for (int gi = 1; gi < groups; gi++)
      for (int j = 0; j < co; j++) db[j] += dbp[(long)gi * co + j];
  }
}

void matmul(const float* a, const float* b, float* c, int m, int n, int k, bool trans_a, bool trans_b,
            bool accumulate, const float* bias) {
  if (m == 0 || n == 0) return;
  if (bias) {
    if (!accumulate)
      for (int i = 0; i < m; i++) std::memcpy(c + (long)i * n, bias, n * sizeof(float));
    else
      for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) c[(long)i * n + j] += bias[j];
    accumulate = true;
  }
  if (!trans_a && !trans_b)
    gemm_parallel(m, n, k, PackARowMajor{a, k}, PackBRowMajor{b, n}, c, n, accumulate);
  else if (!trans_a && trans_b)
    gemm_parallel(m, n, k, PackARowMajor{a, k}, PackBTransposed{b, k}, c, n, accumulate);
  else if (trans_a && !trans_b)
    gemm_parallel(m, n, k, PackATransposed{a, m}, PackBRowMajor{b, n}, c, n, accumulate);
  else
    gemm_parallel(m, n, k, PackATransposed{a, m}, PackBTransposed{b, k}, c, n, accumulate);
}

void sum_rows(const float* a, float* out, int rows, int cols) {
  for (int j = 0; j < cols; j++) out[j] = 0.f;
  for (int i = 0; i < rows; i++) {
    const float* r = a + (long)i * cols;
    for (int j = 0; j < cols; j++) out[j] += r[j];
  }
}

}  // namespace iddpm
