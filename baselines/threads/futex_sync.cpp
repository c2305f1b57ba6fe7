// futex_sync.cpp: FutexEvent and FutexWaitGroup (see futex_sync.h for the states).
#include "threads/futex_sync.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace greenbench {
namespace {

template <class Word>
void futex_wait(std::atomic<Word>& word, Word expected) {
  static_assert(sizeof(Word) == 4);
  // Returns at once (EAGAIN) when the word no longer holds `expected`; spurious wake-ups
  // and EINTR are handled by the callers' loops.
  ::syscall(SYS_futex, reinterpret_cast<Word*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

template <class Word>
void futex_wake(std::atomic<Word>& word, int count) {
  ::syscall(SYS_futex, reinterpret_cast<Word*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

constexpr std::uint32_t kEmpty = 0;
constexpr std::uint32_t kSignalled = 1;
constexpr std::uint32_t kSleeping = 2;

}  // namespace

void FutexEvent::signal() {
  if (word_.exchange(kSignalled, std::memory_order_release) == kSleeping) futex_wake(word_, 1);
}

void FutexEvent::wait() {
  std::uint32_t state = word_.load(std::memory_order_acquire);
  for (;;) {
    if (state == kSignalled) {
      if (word_.compare_exchange_weak(state, kEmpty, std::memory_order_acquire)) return;
      continue;
    }
    if (state == kEmpty && !word_.compare_exchange_weak(state, kSleeping, std::memory_order_acquire)) {
      continue;
    }
    futex_wait(word_, kSleeping);
    state = word_.load(std::memory_order_acquire);
  }
}

void FutexWaitGroup::add(std::int64_t delta) {
  const std::int64_t now =
      count_.fetch_add(static_cast<std::int32_t>(delta), std::memory_order_acq_rel) + delta;
  if (now < 0 || now > INT_MAX) {
    std::fprintf(stderr, "FutexWaitGroup: count out of range (%lld)\n", static_cast<long long>(now));
    std::abort();
  }
  if (now == 0) futex_wake(count_, INT_MAX);
}

void FutexWaitGroup::wait() {
  for (std::int32_t count = count_.load(std::memory_order_acquire); count != 0;
       count = count_.load(std::memory_order_acquire)) {
    futex_wait(count_, count);
  }
}

}  // namespace greenbench
