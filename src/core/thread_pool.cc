#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>

#if defined(_OPENMP)
#include <omp.h>
#endif
#include <chrono>
#include <thread>

namespace greenai {

namespace {
thread_local bool tl_in_parallel = false;

// Spins (yielding the core) until done() or `micros` have passed; returns done().
template <typename F>
bool SpinUntil(F&& done, int micros) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(micros);
  for (int i = 0;; ++i) {
    if (done()) return true;
    if ((i & 15) == 15 && std::chrono::steady_clock::now() >= end) return done();
    std::this_thread::yield();
  }
}
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  num_threads_ = num_threads;
#if !defined(_OPENMP)
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
#endif
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_work_.notify_all();
  for (auto& t : workers_) t.join();
}

ThreadPool& ThreadPool::Default() {
  static ThreadPool pool(0);
  return pool;
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int64_t max_chunks = (n + grain - 1) / grain;
  if (num_threads_ == 1 || max_chunks == 1 || tl_in_parallel) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> call_lock(call_mu_);
  int64_t chunks = std::min<int64_t>(max_chunks, static_cast<int64_t>(num_threads_) * 4);
  int64_t chunk = (n + chunks - 1) / chunks;
  chunks = (n + chunk - 1) / chunk;
#if defined(_OPENMP)
  if (omp_in_parallel()) {  // called from inside someone's OpenMP region: run inline
    fn(0, n);
    return;
  }
  std::atomic<int64_t> next{0};
#pragma omp parallel num_threads(num_threads_)
  {
    tl_in_parallel = true;
    for (int64_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1)) fn(c * chunk, std::min(n, (c + 1) * chunk));
    tl_in_parallel = false;
  }
  return;
#endif
  {
    std::lock_guard<std::mutex> lk(mu_);
    fn_ = &fn;
    n_ = n;
    chunk_ = chunk;
    num_chunks_ = chunks;
    next_chunk_ = 0;
    chunks_done_ = 0;
    ++generation_;
  }
  cv_work_.notify_all();
  // The caller works too.
  tl_in_parallel = true;
  for (;;) {
    int64_t c;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (next_chunk_ >= num_chunks_) break;
      c = next_chunk_++;
    }
    fn(c * chunk, std::min(n, (c + 1) * chunk));
    std::lock_guard<std::mutex> lk(mu_);
    ++chunks_done_;
  }
  tl_in_parallel = false;
  SpinUntil([&] { return chunks_done_.load(std::memory_order_acquire) == chunks; }, kSpinMicros);
  std::unique_lock<std::mutex> lk(mu_);
  cv_done_.wait(lk, [&] { return chunks_done_ == num_chunks_; });
  fn_ = nullptr;
}

void ThreadPool::WorkerLoop(int) {
  uint64_t seen = 0;
  tl_in_parallel = true;
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    lk.unlock();
    SpinUntil([&] { return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen; },
              kSpinMicros);
    lk.lock();
    cv_work_.wait(lk, [&] { return stop_ || (generation_ != seen && fn_ && next_chunk_ < num_chunks_); });
    if (stop_) return;
    seen = generation_;
    while (fn_ && next_chunk_ < num_chunks_) {
      int64_t c = next_chunk_++;
      const auto* fn = fn_;
      int64_t n = n_, chunk = chunk_;
      lk.unlock();
      (*fn)(c * chunk, std::min(n, (c + 1) * chunk));
      lk.lock();
      if (++chunks_done_ == num_chunks_) cv_done_.notify_all();
    }
  }
}

}  // namespace greenai
