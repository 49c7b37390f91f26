// CPU feature detection, per-thread scratch and the thread pool.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <utility>

#include "common.h"

#if IDDPM_X86
#include <immintrin.h>
#endif

namespace iddpm {

bool cpu_has_avx2_fma() {
#if IDDPM_X86
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return ok;
#else
  return false;
#endif
}

// A kernel switch: unset (-1) until first asked, then on when the CPU has the instructions and the environment
// variable `off_var` is unset, empty or "0"; set_use_* overrides it.
static bool kernel_switch(std::atomic<int>& state, const char* off_var, bool cpu_ok) {
  int v = state.load(std::memory_order_relaxed);
  if (v < 0) {
    const char* off = std::getenv(off_var);
    v = (cpu_ok && !(off && *off && std::strcmp(off, "0") != 0)) ? 1 : 0;
    state.store(v);
  }
  return v == 1;
}

static std::atomic<int> g_use_avx2{-1};

bool use_avx2() { return kernel_switch(g_use_avx2, "IDDPM_NO_AVX2", cpu_has_avx2_fma()); }

void set_use_avx2(bool on) { g_use_avx2.store(on && cpu_has_avx2_fma() ? 1 : 0); }

bool cpu_has_avx512f() {
#if IDDPM_X86
  // __builtin_cpu_supports checks the CPUID bit and that the OS saves the zmm state (XGETBV), as for AVX2.
  static const bool ok = [] {
    __builtin_cpu_init();
    return cpu_has_avx2_fma() && __builtin_cpu_supports("avx512f");
  }();
  return ok;
#else
  return false;
#endif
}

static std::atomic<int> g_use_avx512{-1};

bool use_avx512() { return kernel_switch(g_use_avx512, "IDDPM_NO_AVX512", cpu_has_avx512f()) && use_avx2(); }

void set_use_avx512(bool on) { g_use_avx512.store(on && cpu_has_avx512f() ? 1 : 0); }

float* thread_scratch(ScratchSlot slot, size_t n) {
  thread_local Scratch bufs[kSlotCount];
  return bufs[slot].get(n);
}

// Physical cores: distinct (package, core) pairs of the online CPUs on Linux, else hardware_concurrency.
int physical_cores() {
  unsigned hw = std::thread::hardware_concurrency();
  if (hw == 0) hw = 1;
#ifdef __linux__
  std::set<std::pair<int, int>> cores;
  for (unsigned cpu = 0; cpu < 4096; cpu++) {
    char path[128];
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/core_id", cpu);
    FILE* f = std::fopen(path, "r");
    if (!f) {
      if (cpu >= hw) break;
      continue;
    }
    int core = -1, pkg = 0;
    if (std::fscanf(f, "%d", &core) != 1) core = -1;
    std::fclose(f);
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/physical_package_id", cpu);
    f = std::fopen(path, "r");
    if (f) {
      if (std::fscanf(f, "%d", &pkg) != 1) pkg = 0;
      std::fclose(f);
    }
    if (core >= 0) cores.insert({pkg, core});
  }
  if (!cores.empty() && cores.size() <= hw) return static_cast<int>(cores.size());
#endif
  return static_cast<int>(hw);
}

int default_threads() {
  const char* env = std::getenv("IDDPM_THREADS");
  if (env && *env) {
    int n = std::atoi(env);
    if (n >= 1) return n > 256 ? 256 : n;
  }
  return physical_cores();
}

ThreadPool& pool() {
  // Never destroyed: worker threads are stopped by the addon's env cleanup hook, not by static destructors.
  static ThreadPool* p = new ThreadPool(default_threads());
  return *p;
}

namespace {
constexpr int kGenShift = 40, kTaskShift = 20;
constexpr uint64_t kField = (uint64_t(1) << 20) - 1;
inline uint64_t gen_of(uint64_t s) { return s >> kGenShift; }
inline int tasks_of(uint64_t s) { return static_cast<int>((s >> kTaskShift) & kField); }
inline int next_of(uint64_t s) { return static_cast<int>(s & kField); }
}  // namespace

ThreadPool::ThreadPool(int threads) { start(threads); }

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::start(int threads) {
  stopping_ = false;
  if (threads < 1) threads = 1;
  for (int i = 1; i < threads; i++) workers_.emplace_back([this, i] { worker_loop(i); });
}

void ThreadPool::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::resize(int threads) {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  if (threads < 1) threads = 1;
  if (threads == size()) return;
  stop();
  start(threads);
}

static inline void cpu_relax() {
#if IDDPM_X86
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

int ThreadPool::drain(uint64_t gen, int id) {
  int ran = 0;
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (gen_of(s) != gen || next_of(s) >= tasks_of(s)) return ran;
    if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    const std::function<void(int, int)>* fn = fn_[gen & 1].load(std::memory_order_acquire);
    (*fn)(next_of(s), id);
    ran++;
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == tasks_of(s) && id != 0) {
      std::lock_guard<std::mutex> lk(mu_);  // the caller may be blocked waiting for this last task
      done_cv_.notify_all();
    }
    s = state_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_loop(int id) {
  uint64_t seen = gen_of(state_.load());
  for (;;) {
    // Spin briefly (kernels usually follow each other within microseconds), then sleep until the next job.
    for (int spins = 0; spins < 4000 && gen_of(state_.load(std::memory_order_acquire)) == seen; spins++) cpu_relax();
    if (gen_of(state_.load(std::memory_order_acquire)) == seen) {
      std::unique_lock<std::mutex> lk(mu_);
      wake_cv_.wait(lk, [&] { return stopping_ || gen_of(state_.load()) != seen; });
      if (stopping_) return;
    }
    seen = gen_of(state_.load(std::memory_order_acquire));
    drain(seen, id);
  }
}

static int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void ThreadPool::run(int tasks, const std::function<void(int, int)>& fn, WorkKind kind, double work) {
  if (tasks <= 0) return;
  std::lock_guard<std::mutex> run_lock(run_mu_);
  if (workers_.empty() || tasks == 1 || static_cast<uint64_t>(tasks) > kField) {
    for (int t = 0; t < tasks; t++) fn(t, 0);
    return;
  }
  int size_class = 0;
  for (double w = work / 16384; w >= 2 && size_class < kSizeClasses - 1; w /= 2) size_class++;
  Timing& tm = timing_[kind][size_class];
  bool parallel;
  if (work <= 0 || tm.npar < 2)
    parallel = true;
  else if (tm.nser < 2)
    parallel = false;
  else {
    parallel = tm.par <= tm.ser;
    if (++tm.count % 32 == 0) parallel = !parallel;  // keep measuring the other way
  }
  const int64_t start = now_ns();
  if (parallel) {
    run_parallel(tasks, fn);
    parallel_runs_++;
  } else {
    for (int t = 0; t < tasks; t++) fn(t, 0);
    serial_runs_++;
  }
  if (work <= 0) return;
  const double per = (double)(now_ns() - start) / work;
  double& ema = parallel ? tm.par : tm.ser;
  int& n = parallel ? tm.npar : tm.nser;
  ema = n == 0 ? per : 0.75 * ema + 0.25 * per;
  n++;
}

void ThreadPool::run_parallel(int tasks, const std::function<void(int, int)>& fn) {
  const uint64_t gen = (gen_of(state_.load()) + 1) & ((uint64_t(1) << 24) - 1);
  fn_[gen & 1].store(&fn, std::memory_order_release);
  done_.store(0, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lk(mu_);
    state_.store(gen << kGenShift | static_cast<uint64_t>(tasks) << kTaskShift, std::memory_order_release);
  }
  wake_cv_.notify_all();
  drain(gen, 0);
  // Every task is claimed; wait for the ones other threads are still running: spin briefly, then block (which
  // frees this core for a worker that the scheduler had put aside).
  for (int spins = 0; spins < 1000 && done_.load(std::memory_order_acquire) < tasks; spins++) cpu_relax();
  if (done_.load(std::memory_order_acquire) < tasks) {
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return done_.load() >= tasks; });
  }
}

}  // namespace iddpm
