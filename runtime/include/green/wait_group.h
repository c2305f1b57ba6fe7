// green/wait_group.h: WaitGroup, as Go's sync.WaitGroup: add() before spawning, done()
// as each task finishes, wait() parks until the count is back to zero.
//
// Invariant: the count never goes below zero (that is a bug in the caller and ends the
// process); every waiter parked while the count was positive is woken when it hits zero.
#pragma once

#include <cstdint>

#include "green/detail/task.h"

namespace green {

class WaitGroup {
 public:
  explicit WaitGroup(std::int64_t initial = 0) : count_(initial) {}
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  void add(std::int64_t delta);
  void done() { add(-1); }
  void wait();

 private:
  detail::SpinLock guard_;
  std::int64_t count_;         // guarded by guard_
  detail::WaitQueue waiters_;  // guarded by guard_
};

}  // namespace green
