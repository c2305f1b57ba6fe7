// futex_sync.h: the park/wake primitives of the OS-thread adapters (std_thread, pthread),
// built straight on Linux futexes: FutexEvent (a binary semaphore with one waiter),
// FutexWaitGroup (Go's sync.WaitGroup) and FutexChannel<T> (Go's unbuffered chan T, on two
// FutexEvents). A blocked thread sleeps in the kernel: no spin, no sleep loop, so parked
// threads cost no CPU and a hand-off is exactly one futex wake and one futex wait.
//
// Invariants: FutexEvent's word is 0 (empty), 1 (signalled) or 2 (its waiter is asleep, or
// about to be); signal() issues FUTEX_WAKE only in state 2, so a signal nobody waits for
// costs no system call. FutexWaitGroup's count never goes below zero (that is a caller bug
// and ends the process) and every waiter is woken when it reaches zero. FutexChannel holds
// at most one value in flight: senders take turns (a mutex), and each send returns only
// once the receiver has taken its value.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>

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

template <class T>
class FutexChannel {
 public:
  void send(T value) {
    std::lock_guard turn(senders_);  // one value in flight; other senders sleep here
    slot_.emplace(std::move(value));
    full_.signal();
    taken_.wait();  // the rendezvous: back only once the receiver has it
  }
  T recv() {
    full_.wait();
    T value = std::move(*slot_);
    slot_.reset();
    taken_.signal();
    return value;
  }

 private:
  std::mutex senders_;
  FutexEvent full_, taken_;  // each has one waiter: the receiver, the sender holding the turn
  std::optional<T> slot_;    // written by the sender holding the turn, read by the receiver
};

}  // namespace greenbench
