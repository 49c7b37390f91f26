// Shared definitions of the iddpm native kernels: CPU features, aligned scratch buffers, the thread pool.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

// IDDPM_FORCE_PORTABLE (a -D flag) compiles the portable kernels only, as on a non-x86 or non-GNU compiler.
#if !defined(IDDPM_FORCE_PORTABLE) && (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define IDDPM_X86 1
#define IDDPM_AVX2_TARGET __attribute__((target("avx2,fma")))
#define IDDPM_AVX512_TARGET __attribute__((target("avx512f,avx2,fma")))
#else
#define IDDPM_X86 0
#define IDDPM_AVX2_TARGET
#define IDDPM_AVX512_TARGET
#endif

namespace iddpm {

// True when the CPU (and OS) run AVX2 and FMA: decided once, at load.
bool cpu_has_avx2_fma();
// Whether the AVX2 micro-kernels are in use (cpu_has_avx2_fma() unless IDDPM_NO_AVX2 is set).
bool use_avx2();
void set_use_avx2(bool on);
// True when the CPU (and OS) run AVX-512F (16 fp32 lanes; 32 vector registers).
bool cpu_has_avx512f();
// Whether the AVX-512 kernels are in use: use_avx2() and cpu_has_avx512f(), unless IDDPM_NO_AVX512 is set. They
// give the same bits as the AVX2 ones (see gemm.h), so this is a speed switch only.
bool use_avx512();
void set_use_avx512(bool on);

// 64-byte aligned float buffer that only grows (scratch space, reused across calls).
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(raw_); }
  float* get(size_t n) {
    if (n > cap_) {
      std::free(raw_);
      size_t bytes = n * sizeof(float) + 64;
      raw_ = std::malloc(bytes);
      if (!raw_) {
        cap_ = 0;
        return nullptr;
      }
      uintptr_t p = reinterpret_cast<uintptr_t>(raw_);
      ptr_ = reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
      cap_ = n;
    }
    return ptr_;
  }

 private:
  void* raw_ = nullptr;
  float* ptr_ = nullptr;
  size_t cap_ = 0;
};

// Scratch owned by the calling thread (pool workers and the JS thread each have their own).
enum ScratchSlot { kPackA = 0, kPackB, kTile0, kTile1, kTile2, kTile3, kTile4, kSlotCount };
float* thread_scratch(ScratchSlot slot, size_t n);

// What a parallel run computes: the pool keeps timing statistics per kind.
enum WorkKind { kConvForward = 0, kConvInputGrad, kConvFilterGrad, kMatmul, kAttention, kGroupNorm, kReduce, kElementwise, kKindCount };

// A persistent pool: the calling thread is worker 0, plus n-1 threads. run() hands out task indices
// dynamically and returns once every task has run: it waits only for tasks already claimed, never for a worker
// that has not woken up yet. fn(task, worker) must not call run() again. Calls from different threads are
// serialised.
//
// Other processes on the machine can make threads a loss (a worker descheduled in the middle of a task stalls
// the whole run for a scheduler time slice). So per WorkKind and size class (log2 of `work`, an estimate such as
// FLOPs given by the caller) the pool measures both ways, as time per unit of work: it runs the faster way, and
// the other way one run in 32 to notice when conditions change.
class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  int size() const { return static_cast<int>(workers_.size()) + 1; }
  void resize(int threads);
  void run(int tasks, const std::function<void(int, int)>& fn, WorkKind kind = kReduce, double work = 0);
  long parallel_runs() const { return parallel_runs_; }
  long serial_runs() const { return serial_runs_; }

 private:
  void start(int threads);
  void stop();
  void worker_loop(int id);
  // Claims and runs tasks of generation `gen` until none is left; returns the number run.
  int drain(uint64_t gen, int id);
  void run_parallel(int tasks, const std::function<void(int, int)>& fn);

  struct Timing {
    double par = 0, ser = 0;  // EMA of ns per unit of work
    int npar = 0, nser = 0;
    unsigned count = 0;
  };
  static constexpr int kSizeClasses = 16;  // log2 of the work, from 2^14 up
  Timing timing_[kKindCount][kSizeClasses];
  long parallel_runs_ = 0, serial_runs_ = 0;

  std::vector<std::thread> workers_;
  std::mutex run_mu_;
  std::mutex mu_;
  std::condition_variable wake_cv_;
  std::condition_variable done_cv_;
  // state = generation << 40 | tasks << 20 | next task: one atomic, so a claim can never mix two jobs.
  std::atomic<uint64_t> state_{0};
  std::atomic<int> done_{0};
  // The job of generation g lives in slot g & 1 (a claimed task pins its generation, so the slot stays valid).
  std::atomic<const std::function<void(int, int)>*> fn_[2] = {{nullptr}, {nullptr}};
  bool stopping_ = false;
};

ThreadPool& pool();
// Threads to use by default: IDDPM_THREADS if set (≥1), else the physical cores.
int default_threads();
int physical_cores();

}  // namespace iddpm
