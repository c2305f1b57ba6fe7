// workload_after_burst.h: the after_burst workload (a probe, in a fresh process each
// time): how a runtime's memory comes back after a burst of N tasks, over time. N tasks
// are spawned and parked all at once (parked_tasks.h), then released and joined; from
// that moment (t = 0) the root task's thread samples the process's resident memory
// (smaps_rollup Rss, exact) every kSampleEvery for kWindow, sleeping on its thread in
// between (so on a fiber runtime worker 0 sleeps; the runtime's own background threads,
// such as the fiber runtime's stack trimmer, run meanwhile). Readings:
//   before        before the first spawn
//   peak          with all N tasks alive and parked
//   at(t)         at t = 0, 100, 500, 1000, 2000 and 5000 ms after the last join
//   back_seconds  the first sample at which rss - before is at most 25% of peak - before
//                 (NaN when none within the window)
//   run counters  where the runtime reports on its run (ours: stacks and task blocks
//                 given back to the OS by its trimmer), over the whole run, window included
// What it shows: a runtime that keeps freed stacks (pools, caches) for reuse holds the
// burst's memory; one that returns it, at once or paced, comes back down. Both are
// choices: the timing workloads show what keeping them buys.
//
// Invariant: t = 0 is taken only after every task of the burst has been joined, and each
// reading at a time t is the first sample taken at or after t.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness/procfs.h"
#include "tasks/task_runtime.h"
#include "workloads/parked_tasks.h"
#include "workloads/timing_support.h"

namespace greenbench {

inline constexpr std::chrono::milliseconds kAfterBurstOffsets[] = {
    std::chrono::milliseconds(0),    std::chrono::milliseconds(100),  std::chrono::milliseconds(500),
    std::chrono::milliseconds(1000), std::chrono::milliseconds(2000), std::chrono::milliseconds(5000)};
inline constexpr std::chrono::milliseconds kAfterBurstSampleEvery{50};
inline constexpr std::chrono::milliseconds kAfterBurstWindow{5000};
// "Back": the burst's share of resident memory down to this fraction of what it was.
inline constexpr double kAfterBurstBackFraction = 0.25;

struct AfterBurstResult {
  std::int64_t before = 0;
  std::int64_t peak = 0;
  std::vector<std::int64_t> at;   // one per kAfterBurstOffsets
  double back_seconds = -1;       // < 0: not back within the window
  std::int64_t alive = 0;         // tasks alive at the peak reading
  std::int64_t left_alive = 0;    // tasks alive after release and join (0)
  double window_cpu_seconds = 0;  // process CPU time over the window (trimming, sampling)
  std::vector<std::pair<std::string, double>> run_counters;  // run_reporting's
};

template <TaskRuntime RT>
AfterBurstResult measure_after_burst(const RT& rt, std::int64_t n) {
  AfterBurstResult r;
  r.run_counters = run_reporting(rt, [&] {
    {
      ParkedTasks<RT> parked(rt, static_cast<std::size_t>(n));
      r.before = resident_bytes();
      for (std::int64_t i = 0; i < n; ++i) parked.spawn();
      r.alive = parked.wait_alive();
      r.peak = resident_bytes();
      r.left_alive = parked.release_all();
    }
    const auto t0 = Clock::now();
    const ProcessUsage usage_at_t0 = ProcessUsage::now();
    const double back_at =
        static_cast<double>(r.before) + kAfterBurstBackFraction * static_cast<double>(r.peak - r.before);
    std::size_t next = 0;  // the next offset to record
    for (auto due = t0;; due += kAfterBurstSampleEvery) {
      std::this_thread::sleep_until(due);
      const auto now = Clock::now();
      const std::int64_t rss = resident_bytes();
      while (next < std::size(kAfterBurstOffsets) && now - t0 >= kAfterBurstOffsets[next]) {
        r.at.push_back(rss);
        ++next;
      }
      if (r.back_seconds < 0 && static_cast<double>(rss) <= back_at)
        r.back_seconds = seconds_between(t0, now);
      if (next == std::size(kAfterBurstOffsets)) break;
    }
    r.window_cpu_seconds = ProcessUsage::now().cpu_seconds - usage_at_t0.cpu_seconds;
  });
  return r;
}

}  // namespace greenbench
