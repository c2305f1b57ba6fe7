// time_slice.h: the running task's time slice on one worker, which
// green::this_task::maybe_yield() checks (time_slice.cpp).
//
// The switch path pays one increment (`switches`, in Worker::switch_away) and reads no
// clock. A slice begins at the first maybe_yield() after a switch (it sees `switches`
// moved on since `seen`) and is spent once `length` clock ticks have passed since then.
// The clock is the CPU's time-stamp counter on x86-64 (constant and non-stop on the
// CPUs this suite runs on; calibrated once per process against steady_clock), a
// steady_clock read in nanoseconds elsewhere.
//
// Invariant: touched only by the worker's own thread; a slice never counts time spent
// before the task was last switched in.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace green::detail {

struct TimeSlice {
  std::uint64_t switches = 0;  // every switch on this worker increments it
  std::uint64_t seen = ~0ull;  // `switches` when the current slice began
  std::uint64_t began = 0;     // slice_clock() when it began
  std::uint64_t length = 0;    // the slice in slice_clock() ticks, once `calibrated`
  bool calibrated = false;
  std::chrono::nanoseconds length_ns{0};  // Config::time_slice
};

inline std::uint64_t slice_clock() noexcept {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// `d` in slice_clock() ticks (the first call calibrates: about 200 µs, once per process).
std::uint64_t slice_ticks(std::chrono::nanoseconds d);

}  // namespace green::detail
