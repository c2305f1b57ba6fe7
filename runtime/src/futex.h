// futex.h: the futex wait/wake pair on which idle workers sleep (worker.cpp) and are
// woken (scheduler.cpp).
//
// Invariant: both sides use the same word, private to the process (FUTEX_*_PRIVATE);
// futex_wait returns at once unless the word still holds `expected`, so a wake that
// changed the word before the wait began is never lost.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace green::detail {

// Sleeps while `word` holds `expected`, until woken or `timeout` (relative; nullptr:
// none) passes. May return spuriously: the caller re-checks its condition.
inline void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, const timespec* timeout) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, timeout,
            nullptr, 0);
}

// Wakes one thread sleeping on `word`.
inline void futex_wake_one(std::atomic<std::uint32_t>& word) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

}  // namespace green::detail
