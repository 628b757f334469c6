// A fixed pool of worker threads for data-parallel loops (matrix rows, attention heads).
//
// ParallelFor(n, fn) calls fn(begin, end) on disjoint contiguous ranges covering [0, n), one range per
// thread including the caller, and returns when all ranges are done. Workers spin briefly for the
// next loop (a decode step issues hundreds of short loops) and then sleep on an atomic wait.
// Thread safety: one ParallelFor at a time per pool (the engine serializes its forward passes);
// `fn` must be safe to run concurrently on disjoint ranges. The destructor joins the workers.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace cmln::engine {

class ThreadPool {
 public:
  // n_threads counts the caller; 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(size_t n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size() + 1; }
  void ParallelFor(size_t n, const std::function<void(size_t, size_t)>& fn);

 private:
  void WorkerLoop(size_t index);
  void RunShare(size_t index);

  std::vector<std::thread> workers_;
  const std::function<void(size_t, size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<size_t> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace cmln::engine
