// blocking_pool.h: the helper threads that run green::blocking() calls (green/blocking.h)
// for one run, started on demand up to Config::blocking_threads.
//
// A call is queued by its task before it parks; an idle helper takes it, or a new one is
// started while fewer than the bound exist. A helper runs the call, then takes the call's
// lock (which the task releases only once it is switched out, as every park does) and
// wakes the task from outside the runtime (the global queue). Helpers that find nothing
// to do wait on a condition variable and cost no CPU; they live until the run ends.
//
// Invariant: at most `max_threads` helpers exist, so at most that many calls run at once;
// shut_down() (from the run's teardown, before any stack is freed) waits for every call
// in flight to return and drops the queued ones unstarted, whose tasks are abandoned with
// the run, so no helper touches a task's stack after the run has freed it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include "green/blocking.h"

namespace green::detail {

class BlockingPool {
 public:
  explicit BlockingPool(std::size_t max_threads) : max_threads_(max_threads) {}
  ~BlockingPool() { shut_down(); }
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // False when Config::blocking_threads is 0: calls then run in place, on the worker.
  bool enabled() const noexcept { return max_threads_ != 0; }
  // Queues `call` for a helper, starting one if none is idle and the bound allows.
  // Throws std::system_error when no helper exists and none can be started.
  void submit(BlockingCall& call);
  // Waits for the calls in flight, drops those queued, joins every helper. Idempotent.
  void shut_down() noexcept;
  // The most helpers that existed at once (they live until shut_down()).
  std::size_t threads_peak() const;

 private:
  void helper_main();

  const std::size_t max_threads_;
  mutable std::mutex mu_;
  std::condition_variable work_;       // a call was queued, or the pool stops
  IntrusiveFifo<BlockingCall> queue_;  // guarded by mu_
  std::vector<std::thread> threads_;   // guarded by mu_
  std::size_t idle_ = 0;               // helpers waiting on work_; guarded by mu_
  bool stopping_ = false;              // guarded by mu_
  std::size_t peak_ = 0;               // guarded by mu_
};

}  // namespace green::detail
