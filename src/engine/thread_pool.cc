#include "engine/thread_pool.h"

#include <immintrin.h>

#include <algorithm>

namespace cmln::engine {

namespace {
// Spin iterations before a worker sleeps: long enough to cover the gap between two matrix products
// of one decode step, short enough not to burn a core between requests.
constexpr int kSpinIterations = 20000;
}  // namespace

ThreadPool::ThreadPool(size_t n_threads) {
  if (n_threads == 0) n_threads = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 1; i < n_threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::RunShare(size_t index) {
  const size_t parts = size();
  const size_t begin = n_ * index / parts;
  const size_t end = n_ * (index + 1) / parts;
  if (begin < end) (*fn_)(begin, end);
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t, size_t)>& fn) {
  if (workers_.empty() || n <= 1) {
    if (n > 0) fn(0, n);
    return;
  }
  fn_ = &fn;
  n_ = n;
  pending_.store(workers_.size());
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  RunShare(0);
  int spins = 0;
  while (pending_.load(std::memory_order_acquire) != 0) {
    if (++spins < kSpinIterations) {
      _mm_pause();
    } else {
      std::this_thread::yield();
    }
  }
  fn_ = nullptr;
}

void ThreadPool::WorkerLoop(size_t index) {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    uint64_t g;
    while ((g = generation_.load(std::memory_order_acquire)) == seen) {
      if (++spins < kSpinIterations) {
        _mm_pause();
      } else {
        generation_.wait(seen, std::memory_order_acquire);
      }
    }
    seen = g;
    if (stop_.load()) return;
    RunShare(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace cmln::engine
