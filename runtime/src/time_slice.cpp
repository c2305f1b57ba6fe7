// time_slice.cpp: green::this_task::maybe_yield() and the calibration of its clock
// (design and invariant in time_slice.h).
#include "time_slice.h"

#include "green/runtime.h"
#include "worker.h"

namespace green::detail {
namespace {

// slice_clock() ticks per nanosecond, measured over 200 µs of steady_clock: long enough
// that the clocks' read latency (tens of ns) errs by under 0.1%.
double ticks_per_ns() {
#if defined(__x86_64__)
  static const double ratio = [] {
    using Steady = std::chrono::steady_clock;
    const Steady::time_point t0 = Steady::now();
    const std::uint64_t c0 = slice_clock();
    Steady::time_point t1;
    do {
      t1 = Steady::now();
    } while (t1 - t0 < std::chrono::microseconds(200));
    const std::uint64_t c1 = slice_clock();
    const double ns =
        static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    return static_cast<double>(c1 - c0) / ns;
  }();
  return ratio;
#else
  return 1.0;
#endif
}

}  // namespace

std::uint64_t slice_ticks(std::chrono::nanoseconds d) {
  return static_cast<std::uint64_t>(static_cast<double>(d.count()) * ticks_per_ns());
}

}  // namespace green::detail

namespace green::this_task {

void maybe_yield() {
  detail::Worker* w = detail::current_worker();
  if (!w) return;
  detail::TimeSlice& s = w->slice;
  const std::uint64_t now = detail::slice_clock();
  if (s.seen != s.switches) {  // the first check since this task was switched in
    if (!s.calibrated) {
      s.length = detail::slice_ticks(s.length_ns);
      s.calibrated = true;
    }
    s.seen = s.switches;
    s.began = now;
    return;
  }
  if (now - s.began < s.length) return;
  // Spent. Fire due timers first, so a task whose sleep has ended is queued ahead of
  // this one; then yield. If nothing else is runnable, yield returns at once and the
  // task carries on in a fresh slice.
  w->fire_due_timers();
  s.began = now;
  yield();
}

}  // namespace green::this_task
