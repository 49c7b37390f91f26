// Node-API bindings of the iddpm native kernels. Every kernel takes Float32Arrays (inputs and preallocated
// outputs) and integer sizes; lengths are checked here, so a wrong call throws instead of touching foreign memory.
#include <node_api.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "common.h"
#include "kernels.h"
#include "probe.h"

using namespace iddpm;

namespace {

constexpr int kMaxArgs = 20;

struct Args {
  napi_env env;
  napi_value argv[kMaxArgs];
  size_t argc = kMaxArgs;
  bool failed = false;

  Args(napi_env e, napi_callback_info info) : env(e) {
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) fail("bad call");
  }
  void fail(const std::string& msg) {
    if (!failed) napi_throw_error(env, "IDDPM_NATIVE", msg.c_str());
    failed = true;
  }
  // A Float32Array of exactly `len` elements; null/undefined allowed when `optional`.
  float* f32(size_t i, size_t len, const char* name, bool optional = false) {
    if (failed) return nullptr;
    if (i >= argc) {
      if (optional) return nullptr;
      fail(std::string(name) + ": missing");
      return nullptr;
    }
    napi_valuetype t;
    napi_typeof(env, argv[i], &t);
    if (optional && (t == napi_null || t == napi_undefined)) return nullptr;
    bool is_ta = false;
    napi_is_typedarray(env, argv[i], &is_ta);
    if (!is_ta) {
      fail(std::string(name) + ": expected a Float32Array");
      return nullptr;
    }
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value ab;
    size_t offset;
    if (napi_get_typedarray_info(env, argv[i], &type, &length, &data, &ab, &offset) != napi_ok ||
        type != napi_float32_array) {
      fail(std::string(name) + ": expected a Float32Array");
      return nullptr;
    }
    if (length != len) {
      fail(std::string(name) + ": expected " + std::to_string(len) + " elements, got " + std::to_string(length));
      return nullptr;
    }
    if (len > 0 && data == nullptr) {
      fail(std::string(name) + ": detached buffer");
      return nullptr;
    }
    return static_cast<float*>(data);
  }
  // The element count of argument i when it is a typed array, else 0 (then f32 names what is wrong): for
  // kernels whose size is the length of their first array.
  size_t length(size_t i) {
    size_t n = 0;
    if (i >= argc) return n;
    napi_typedarray_type type;
    void* data;
    napi_value ab;
    size_t offset;
    bool is_ta = false;
    napi_is_typedarray(env, argv[i], &is_ta);
    if (is_ta) napi_get_typedarray_info(env, argv[i], &type, &n, &data, &ab, &offset);
    return n;
  }
  int i32(size_t i, const char* name, int min = 0) {
    if (failed) return 0;
    int32_t v = 0;
    if (i >= argc || napi_get_value_int32(env, argv[i], &v) != napi_ok) {
      fail(std::string(name) + ": expected an integer");
      return 0;
    }
    if (v < min) {
      fail(std::string(name) + ": must be ≥ " + std::to_string(min));
      return 0;
    }
    return v;
  }
  double f64(size_t i, const char* name) {
    if (failed) return 0;
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) fail(std::string(name) + ": expected a number");
    return v;
  }
  bool boolean(size_t i, const char* name) {
    if (failed) return false;
    bool v = false;
    if (i >= argc || napi_get_value_bool(env, argv[i], &v) != napi_ok) fail(std::string(name) + ": expected a boolean");
    return v;
  }
};

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// dims: B, H, W, Ci, KH, KW, Co, stride, pt, pl, Ho, Wo from argument `first` on.
bool conv_geom(Args& a, size_t first, ConvGeom& g) {
  g.B = a.i32(first + 0, "B");
  g.H = a.i32(first + 1, "H");
  g.W = a.i32(first + 2, "W");
  g.Ci = a.i32(first + 3, "Ci", 1);
  g.KH = a.i32(first + 4, "KH", 1);
  g.KW = a.i32(first + 5, "KW", 1);
  g.Co = a.i32(first + 6, "Co", 1);
  g.stride = a.i32(first + 7, "stride", 1);
  g.pt = a.i32(first + 8, "padTop", -(1 << 20));
  g.pl = a.i32(first + 9, "padLeft", -(1 << 20));
  g.Ho = a.i32(first + 10, "Ho");
  g.Wo = a.i32(first + 11, "Wo");
  return !a.failed;
}

size_t sz(long a, long b = 1, long c = 1, long d = 1) { return (size_t)a * b * c * d; }

napi_value Conv2dForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  ConvGeom g;
  if (!conv_geom(a, 4, g)) return nullptr;
  const float* x = a.f32(0, sz(g.B, g.H, g.W, g.Ci), "x");
  const float* w = a.f32(1, sz(g.KH, g.KW, g.Ci, g.Co), "w");
  const float* bias = a.f32(2, g.Co, "bias", true);
  float* y = a.f32(3, sz(g.B, g.Ho, g.Wo, g.Co), "y");
  if (a.failed) return nullptr;
  conv2d_forward(x, w, bias, nullptr, y, g);
  return undefined(env);
}

// conv2dForwardAdd(x, w, bias?, residual, y, ...dims): y = conv(x, w) + bias + residual in one pass.
napi_value Conv2dForwardAdd(napi_env env, napi_callback_info info) {
  Args a(env, info);
  ConvGeom g;
  if (!conv_geom(a, 5, g)) return nullptr;
  const float* x = a.f32(0, sz(g.B, g.H, g.W, g.Ci), "x");
  const float* w = a.f32(1, sz(g.KH, g.KW, g.Ci, g.Co), "w");
  const float* bias = a.f32(2, g.Co, "bias", true);
  const float* residual = a.f32(3, sz(g.B, g.Ho, g.Wo, g.Co), "residual");
  float* y = a.f32(4, sz(g.B, g.Ho, g.Wo, g.Co), "y");
  if (a.failed) return nullptr;
  if (y == residual) {
    a.fail("y: may not be the residual array");
    return nullptr;
  }
  conv2d_forward(x, w, bias, residual, y, g);
  return undefined(env);
}

napi_value Conv2dInputGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  ConvGeom g;
  if (!conv_geom(a, 3, g)) return nullptr;
  const float* dy = a.f32(0, sz(g.B, g.Ho, g.Wo, g.Co), "dy");
  const float* w = a.f32(1, sz(g.KH, g.KW, g.Ci, g.Co), "w");
  float* dx = a.f32(2, sz(g.B, g.H, g.W, g.Ci), "dx");
  if (a.failed) return nullptr;
  conv2d_input_grad(dy, w, dx, g);
  return undefined(env);
}

napi_value Conv2dFilterGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  ConvGeom g;
  if (!conv_geom(a, 4, g)) return nullptr;
  const float* x = a.f32(0, sz(g.B, g.H, g.W, g.Ci), "x");
  const float* dy = a.f32(1, sz(g.B, g.Ho, g.Wo, g.Co), "dy");
  float* dw = a.f32(2, sz(g.KH, g.KW, g.Ci, g.Co), "dw");
  float* db = a.f32(3, g.Co, "db", true);
  if (a.failed) return nullptr;
  conv2d_filter_grad(x, dy, dw, db, g);
  return undefined(env);
}

// matmul(a, b, c, m, n, k, transA, transB, accumulate, bias?)
napi_value MatMul(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int m = a.i32(3, "m"), n = a.i32(4, "n"), k = a.i32(5, "k");
  const bool ta = a.boolean(6, "transA"), tb = a.boolean(7, "transB"), acc = a.boolean(8, "accumulate");
  const float* A = a.f32(0, sz(m, k), "a");
  const float* B = a.f32(1, sz(k, n), "b");
  float* C = a.f32(2, sz(m, n), "c");
  const float* bias = a.f32(9, n, "bias", true);
  if (a.failed) return nullptr;
  matmul(A, B, C, m, n, k, ta, tb, acc, bias);
  return undefined(env);
}

// sumRows(a, out, rows, cols): out = Σ_rows a
napi_value SumRows(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int rows = a.i32(2, "rows"), cols = a.i32(3, "cols");
  const float* A = a.f32(0, sz(rows, cols), "a");
  float* out = a.f32(1, cols, "out");
  if (a.failed) return nullptr;
  sum_rows(A, out, rows, cols);
  return undefined(env);
}

// attentionForward(qkv, out, weights, B, T, heads, d)
napi_value AttentionForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int B = a.i32(3, "B"), T = a.i32(4, "T", 1), heads = a.i32(5, "heads", 1), d = a.i32(6, "d", 1);
  const float* qkv = a.f32(0, sz(B, T, 3L * heads * d), "qkv");
  float* out = a.f32(1, sz(B, T, (long)heads * d), "out");
  float* w = a.f32(2, sz((long)B * heads, T, T), "weights");
  if (a.failed) return nullptr;
  attention_forward(qkv, out, w, B, T, heads, d);
  return undefined(env);
}

// attentionBackward(qkv, weights, dy, dqkv, B, T, heads, d)
napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int B = a.i32(4, "B"), T = a.i32(5, "T", 1), heads = a.i32(6, "heads", 1), d = a.i32(7, "d", 1);
  const float* qkv = a.f32(0, sz(B, T, 3L * heads * d), "qkv");
  const float* w = a.f32(1, sz((long)B * heads, T, T), "weights");
  const float* dy = a.f32(2, sz(B, T, (long)heads * d), "dy");
  float* dqkv = a.f32(3, sz(B, T, 3L * heads * d), "dqkv");
  if (a.failed) return nullptr;
  attention_backward(qkv, w, dy, dqkv, B, T, heads, d);
  return undefined(env);
}

// groupNormForward(x, gamma, beta, y, mean, rstd, B, HW, C, G, eps, silu, scale?, shift?)
napi_value GroupNormForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int B = a.i32(6, "B"), HW = a.i32(7, "HW"), C = a.i32(8, "C", 1), G = a.i32(9, "G", 1);
  const double eps = a.f64(10, "eps");
  const bool silu = a.boolean(11, "silu");
  if (!a.failed && C % G != 0) a.fail("C is not divisible by G");
  const float* x = a.f32(0, sz(B, HW, C), "x");
  const float* gamma = a.f32(1, C, "gamma");
  const float* beta = a.f32(2, C, "beta");
  float* y = a.f32(3, sz(B, HW, C), "y");
  float* mean = a.f32(4, sz(B, G), "mean");
  float* rstd = a.f32(5, sz(B, G), "rstd");
  const float* scale = a.f32(12, sz(B, C), "scale", true);
  const float* shift = a.f32(13, sz(B, C), "shift", true);
  if (!a.failed && (scale == nullptr) != (shift == nullptr)) a.fail("scale and shift come together");
  if (a.failed) return nullptr;
  group_norm_forward(x, gamma, beta, scale, shift, y, mean, rstd, B, HW, C, G, (float)eps, silu);
  return undefined(env);
}

// groupNormBackward(x, gamma, beta, mean, rstd, dy, dx, dgamma, dbeta, B, HW, C, G, silu,
//                   scale?, shift?, dscale?, dshift?)
napi_value GroupNormBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int B = a.i32(9, "B"), HW = a.i32(10, "HW"), C = a.i32(11, "C", 1), G = a.i32(12, "G", 1);
  const bool silu = a.boolean(13, "silu");
  if (!a.failed && C % G != 0) a.fail("C is not divisible by G");
  const float* x = a.f32(0, sz(B, HW, C), "x");
  const float* gamma = a.f32(1, C, "gamma");
  const float* beta = a.f32(2, C, "beta");
  const float* mean = a.f32(3, sz(B, G), "mean");
  const float* rstd = a.f32(4, sz(B, G), "rstd");
  const float* dy = a.f32(5, sz(B, HW, C), "dy");
  float* dx = a.f32(6, sz(B, HW, C), "dx");
  float* dgamma = a.f32(7, C, "dgamma");
  float* dbeta = a.f32(8, C, "dbeta");
  const float* scale = a.f32(14, sz(B, C), "scale", true);
  const float* shift = a.f32(15, sz(B, C), "shift", true);
  float* dscale = a.f32(16, sz(B, C), "dscale", true);
  float* dshift = a.f32(17, sz(B, C), "dshift", true);
  if (!a.failed && ((scale == nullptr) != (shift == nullptr) || (scale == nullptr) != (dscale == nullptr) ||
                    (scale == nullptr) != (dshift == nullptr)))
    a.fail("scale, shift, dscale and dshift come together");
  if (a.failed) return nullptr;
  group_norm_backward(x, gamma, beta, scale, shift, mean, rstd, dy, dx, dgamma, dbeta, dscale, dshift, B, HW, C, G,
                      silu);
  return undefined(env);
}

// adamwStep(param, grad, m, v, paramOut, mOut, vOut, beta1, beta2, eps, decay, biasCorrection2Sqrt, stepSize):
// one AdamW update of n = param.length values; the scalars are JS numbers, rounded to float32 here as tfjs does.
// Returns Σ grad² (the squared gradient norm), read in the same pass.
napi_value AdamWStep(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const size_t n = a.length(0);
  const float* p = a.f32(0, n, "param");
  const float* g = a.f32(1, n, "grad");
  const float* m = a.f32(2, n, "m");
  const float* v = a.f32(3, n, "v");
  float* p_out = a.f32(4, n, "paramOut");
  float* m_out = a.f32(5, n, "mOut");
  float* v_out = a.f32(6, n, "vOut");
  const double beta1 = a.f64(7, "beta1"), beta2 = a.f64(8, "beta2"), eps = a.f64(9, "eps"), decay = a.f64(10, "decay"),
               bc2 = a.f64(11, "biasCorrection2Sqrt"), step_size = a.f64(12, "stepSize");
  if (a.failed) return nullptr;
  // 1 − β is formed in double, then rounded, as `tf.mul(x, 1 - beta)` does.
  const AdamWScalars s{(float)beta1, (float)(1 - beta1), (float)beta2, (float)(1 - beta2), (float)decay, (float)bc2,
                       (float)eps, (float)step_size};
  const double grad_sq = adamw_step(p, g, m, v, p_out, m_out, v_out, (long)n, s);
  napi_value out;
  napi_create_double(env, grad_sq, &out);
  return out;
}

// emaUpdate(ema, param, out, rate): out = ema·rate + param·(1 − rate).
napi_value EmaUpdate(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const size_t n = a.length(0);
  const float* e = a.f32(0, n, "ema");
  const float* p = a.f32(1, n, "param");
  float* out = a.f32(2, n, "out");
  const double rate = a.f64(3, "rate");
  if (a.failed) return nullptr;
  ema_update(e, p, out, (long)n, (float)rate, (float)(1 - rate));
  return undefined(env);
}

// concatChannels(a, b, out, rows, ca, cb): out[rows, ca+cb] = a[rows, ca] | b[rows, cb].
napi_value ConcatChannels(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int rows = a.i32(3, "rows"), ca = a.i32(4, "ca"), cb = a.i32(5, "cb");
  const float* x = a.f32(0, sz(rows, ca), "a");
  const float* y = a.f32(1, sz(rows, cb), "b");
  float* out = a.f32(2, sz(rows, (long)ca + cb), "out");
  if (a.failed) return nullptr;
  concat_channels(x, y, out, rows, ca, cb);
  return undefined(env);
}

// splitChannels(x, a, b, rows, ca, cb): the inverse of concatChannels.
napi_value SplitChannels(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int rows = a.i32(3, "rows"), ca = a.i32(4, "ca"), cb = a.i32(5, "cb");
  const float* x = a.f32(0, sz(rows, (long)ca + cb), "x");
  float* p = a.f32(1, sz(rows, ca), "a");
  float* q = a.f32(2, sz(rows, cb), "b");
  if (a.failed) return nullptr;
  split_channels(x, p, q, rows, ca, cb);
  return undefined(env);
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_int32(env, pool().size(), &v);
  napi_set_named_property(env, obj, "threads", v);
  napi_create_int32(env, physical_cores(), &v);
  napi_set_named_property(env, obj, "physicalCores", v);
  napi_get_boolean(env, use_avx2(), &v);
  napi_set_named_property(env, obj, "avx2", v);
  napi_get_boolean(env, cpu_has_avx2_fma(), &v);
  napi_set_named_property(env, obj, "cpuAvx2", v);
  napi_get_boolean(env, use_avx512(), &v);
  napi_set_named_property(env, obj, "avx512", v);
  napi_get_boolean(env, cpu_has_avx512f(), &v);
  napi_set_named_property(env, obj, "cpuAvx512", v);
  napi_create_string_utf8(env, use_avx512() ? "avx512 12x32" : use_avx2() ? "avx2+fma 6x16" : "portable 6x16",
                          NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "microKernel", v);
  napi_create_int32(env, 2, &v);
  napi_set_named_property(env, obj, "abi", v);
  napi_create_int64(env, pool().parallel_runs(), &v);
  napi_set_named_property(env, obj, "parallelRuns", v);
  napi_create_int64(env, pool().serial_runs(), &v);
  napi_set_named_property(env, obj, "serialRuns", v);
  return obj;
}

// probeCpu(): the measured clock and FMA throughput of the calling thread's core (~50 ms); null where not measured.
napi_value ProbeCpu(napi_env env, napi_callback_info) {
  const CpuProbe p = probe_cpu();
  napi_value obj, v;
  napi_create_object(env, &obj);
  const auto set_bool = [&](const char* name, bool b) {
    napi_get_boolean(env, b, &v);
    napi_set_named_property(env, obj, name, v);
  };
  const auto set_num = [&](const char* name, double x) {
    if (x > 0) napi_create_double(env, x, &v);
    else napi_get_null(env, &v);
    napi_set_named_property(env, obj, name, v);
  };
  set_bool("x86", p.x86);
  set_bool("cpuAvx2", p.cpu_avx2_fma);
  set_bool("cpuAvx512f", p.cpu_avx512f);
  set_num("clockGHz", p.clock_ghz);
  set_num("fmaLatencyCycles", p.fma_latency_cycles);
  set_num("avx2FmaPerNs", p.avx2_fma_per_ns);
  set_num("avx512FmaPerNs", p.avx512_fma_per_ns);
  napi_create_int32(env, p.runs, &v);
  napi_set_named_property(env, obj, "runs", v);
  return obj;
}

// setThreads(n): resize the pool (n ≥ 1); returns the thread count.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int n = a.i32(0, "threads", 1);
  if (a.failed) return nullptr;
  pool().resize(n > 256 ? 256 : n);
  napi_value v;
  napi_create_int32(env, pool().size(), &v);
  return v;
}

// setAvx2(on) / setAvx512(on): a kernel switch (on only where the CPU has the instructions); returns the state.
napi_value SetKernelSwitch(napi_env env, napi_callback_info info, void (*set)(bool), bool (*get)()) {
  Args a(env, info);
  const bool on = a.boolean(0, "on");
  if (a.failed) return nullptr;
  set(on);
  napi_value v;
  napi_get_boolean(env, get(), &v);
  return v;
}

// The AVX2 micro-kernels or the portable ones.
napi_value SetAvx2(napi_env env, napi_callback_info info) {
  return SetKernelSwitch(env, info, set_use_avx2, use_avx2);
}

// The AVX-512 kernels (when AVX2 is on too) or the AVX2 ones: the same bits either way, a speed switch for
// benchmarks and the tests that check the bits agree.
napi_value SetAvx512(napi_env env, napi_callback_info info) {
  return SetKernelSwitch(env, info, set_use_avx512, use_avx512);
}

std::atomic<int> g_envs{0};

void Cleanup(void*) {
  // Last environment gone (process exit or last worker thread ended): stop the pool's threads.
  if (g_envs.fetch_sub(1) == 1) pool().resize(1);
}

napi_value Init(napi_env env, napi_value exports) {
  // First environment (again): the pool may have been shrunk by an earlier environment's cleanup.
  if (g_envs.fetch_add(1) == 0 && pool().size() == 1 && default_threads() > 1) pool().resize(default_threads());
  napi_add_env_cleanup_hook(env, Cleanup, nullptr);
  const napi_property_descriptor props[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setAvx2", nullptr, SetAvx2, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setAvx512", nullptr, SetAvx512, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumRows", nullptr, SumRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dForward", nullptr, Conv2dForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dForwardAdd", nullptr, Conv2dForwardAdd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dInputGrad", nullptr, Conv2dInputGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dFilterGrad", nullptr, Conv2dFilterGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionForward", nullptr, AttentionForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionBackward", nullptr, AttentionBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"groupNormForward", nullptr, GroupNormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"groupNormBackward", nullptr, GroupNormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamwStep", nullptr, AdamWStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"emaUpdate", nullptr, EmaUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"concatChannels", nullptr, ConcatChannels, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"splitChannels", nullptr, SplitChannels, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"probeCpu", nullptr, ProbeCpu, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
