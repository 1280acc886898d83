// ThreadPool: a fixed set of worker threads for data-parallel loops.
//
// Contract:
//  - ParallelFor(n, grain, fn) calls fn(begin, end) over disjoint chunks covering [0, n),
//    each chunk at least `grain` long (except the last), and returns when all are done.
//    The calling thread takes part. With num_threads() == 1 it runs inline.
//  - fn must not throw. Nested ParallelFor calls from inside fn run inline (no deadlock).
//  - Thread safety: ParallelFor may be called from one thread at a time per pool
//    (a second caller waits).
//  - Threads: built with OpenMP (the normal build), ParallelFor runs an OpenMP parallel
//    region of num_threads() threads, i.e. the same libgomp threads oneDNN's primitives use.
//    Two separate pools on the same cores (oneDNN's OpenMP team spinning after a primitive
//    while greenai's own workers run the next kernel) oversubscribed the 2-core machine and
//    the scheduler time-sliced them in milliseconds: a 784-512-256-10 MLP at batch 64 took
//    3.1 ms instead of 0.6-0.8 ms. Without OpenMP the pool keeps its own std::thread workers.
//  - Waiting: a worker that finishes spins (yielding its core to any other runnable thread)
//    for up to kSpinMicros before sleeping on the condition variable, and the caller spins
//    the same way for the last chunks. Kernels run back to back within a model run, so the
//    next ParallelFor usually finds the workers awake: a condition-variable wake-up costs
//    tens of microseconds, as much as a small kernel's whole parallel part.
#pragma once

#include <atomic>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace greenai {

class ThreadPool {
 public:
  // num_threads <= 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // A process-wide pool sized to the hardware (for code without a session).
  static ThreadPool& Default();

 private:
  static constexpr int kSpinMicros = 50;
  void WorkerLoop(int index);

  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex call_mu_;  // serializes ParallelFor callers
  std::mutex mu_;
  std::condition_variable cv_work_, cv_done_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunk_ = 0, num_chunks_ = 0;
  int64_t next_chunk_ = 0;
  std::atomic<int64_t> chunks_done_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace greenai
