// futex_sync.h: the park/wake primitives of the OS-thread adapters (std_thread, pthread),
// built straight on Linux futexes: FutexEvent (a binary semaphore with one waiter) and
// FutexWaitGroup (Go's sync.WaitGroup). A blocked thread sleeps in the kernel: no spin, no
// sleep loop, so parked threads cost no CPU and a hand-off is exactly one futex wake and
// one futex wait.
//
// Invariants: FutexEvent's word is 0 (empty), 1 (signalled) or 2 (its waiter is asleep, or
// about to be); signal() issues FUTEX_WAKE only in state 2, so a signal nobody waits for
// costs no system call. FutexWaitGroup's count never goes below zero (that is a caller bug
// and ends the process) and every waiter is woken when it reaches zero.
#pragma once

#include <atomic>
#include <cstdint>

namespace greenbench {

class FutexEvent {
 public:
  FutexEvent() = default;
  FutexEvent(const FutexEvent&) = delete;
  FutexEvent& operator=(const FutexEvent&) = delete;

  void signal();
  void wait();

 private:
  std::atomic<std::uint32_t> word_{0};
};

class FutexWaitGroup {
 public:
  FutexWaitGroup() = default;
  FutexWaitGroup(const FutexWaitGroup&) = delete;
  FutexWaitGroup& operator=(const FutexWaitGroup&) = delete;

  void add(std::int64_t delta);
  void done() { add(-1); }
  void wait();

 private:
  std::atomic<std::int32_t> count_{0};  // a futex word is 32 bits
};

}  // namespace greenbench
