// The native kernels behind the addon's exports. All tensors are dense float32, NHWC / row-major.
#pragma once

namespace iddpm {

struct ConvGeom {
  int B, H, W, Ci;  // input
  int KH, KW, Co;   // filter [KH, KW, Ci, Co]
  int stride;
  int pt, pl;  // top / left zero padding (bottom / right follow from Ho, Wo)
  int Ho, Wo;  // output
};

// y[B,Ho,Wo,Co] = conv(x, w) (+ bias) (+ residual[B,Ho,Wo,Co], e.g. a ResBlock's skip connection: added to each
// block of rows as it is finished, instead of a separate pass over y; the same bits as adding it afterwards).
void conv2d_forward(const float* x, const float* w, const float* bias, const float* residual, float* y,
                    const ConvGeom& g);
// dx[B,H,W,Ci] from dy[B,Ho,Wo,Co].
void conv2d_input_grad(const float* dy, const float* w, float* dx, const ConvGeom& g);
// dw[KH,KW,Ci,Co] (and db[Co] when non-null) from x and dy.
void conv2d_filter_grad(const float* x, const float* dy, float* dw, float* db, const ConvGeom& g);

// c[m,n] (+)= op(a)·op(b) (+ bias[n] when non-null); op(a) is a[m,k] or, transposed, a stored [k,m]; likewise b.
void matmul(const float* a, const float* b, float* c, int m, int n, int k, bool trans_a, bool trans_b,
            bool accumulate, const float* bias);
// out[cols] = Σ over rows of a[rows, cols] (in row order).
void sum_rows(const float* a, float* out, int rows, int cols);

// qkv [B,T,3·heads·d] (head h owns channels [h·3d, (h+1)·3d) = q|k|v) → out [B,T,heads·d]; weights [B·heads,T,T].
void attention_forward(const float* qkv, float* out, float* weights, int B, int T, int heads, int d);
void attention_backward(const float* qkv, const float* weights, const float* dy, float* dqkv, int B, int T,
                        int heads, int d);

// GroupNorm over x [B, HW, C] with G groups (mean / rstd are [B, G]), then, when scale/shift [B, C] are given,
// ·(1 + scale) + shift, then SiLU when `silu`. The backward pass also gives dscale / dshift [B, C] then.
void group_norm_forward(const float* x, const float* gamma, const float* beta, const float* scale,
                        const float* shift, float* y, float* mean, float* rstd, int B, int HW, int C, int G,
                        float eps, bool silu);
void group_norm_backward(const float* x, const float* gamma, const float* beta, const float* scale,
                         const float* shift, const float* mean, const float* rstd, const float* dy, float* dx,
                         float* dgamma, float* dbeta, float* dscale, float* dshift, int B, int HW, int C, int G,
                         bool silu);

// AdamW on a flat vector of n parameters (torch.optim.AdamW): m' = β1·m + (1−β1)·g, v' = β2·v + (1−β2)·g²,
// p' = p·decay − m'/(√v'/√bc2 + ε)·stepSize, with decay = 1 − lr·wd and stepSize = lr/bc1. Outputs may not alias
// inputs of another role. Bit-identical to the tfjs ops of train/adamw.ts (see optimizer.cc).
struct AdamWScalars {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, decay, bias_correction2_sqrt, eps, step_size;
};
// Returns Σ grad² (in double, summed in a fixed order), the squared gradient norm the trainer reports.
double adamw_step(const float* param, const float* grad, const float* m, const float* v, float* param_out,
                  float* m_out, float* v_out, long n, const AdamWScalars& s);
// out = ema·rate + param·(1 − rate), as train/ema.ts.
void ema_update(const float* ema, const float* param, float* out, long n, float rate, float one_minus_rate);

// out[rows, ca+cb] = a[rows, ca] | b[rows, cb] (the last axis of NHWC tensors), and back.
void concat_channels(const float* a, const float* b, float* out, long rows, long ca, long cb);
void split_channels(const float* x, float* a, float* b, long rows, long ca, long cb);

}  // namespace iddpm
