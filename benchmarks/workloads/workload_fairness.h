// workload_fairness.h: the fairness workload: does a task that sleeps get the CPU back
// on time while other tasks compute without yielding? A ticker task wakes on a fixed
// schedule, one deadline every millisecond of a window, while `hogs:K` tasks compute
// until the window ends. The ticker sleeps until its next deadline (RT::sleep_until);
// when it wakes past later deadlines, those are missed (skipped, as a Go Ticker drops
// ticks). Per iteration:
//   lateness_p50_us, lateness_p99_us, lateness_max_us  how late each tick woke after its
//                       deadline (nearest rank over the ticks served)
//   ticks               deadlines served; ticks_missed  deadlines of the window skipped
//   ticks_expected      deadlines in the window (window / 1 ms)
//   hog_work_per_second units of the hogs' work (256 multiply-adds each) done per second:
//                       what the hogs got, and what via:maybe_yield costs them
// Threads are preempted by the kernel; a cooperative runtime lets a hog keep its worker,
// so with K >= workers the ticker waits for the window's end.
//   via:spin         the hogs compute and never yield.
//   via:maybe_yield  (greenbench's fibers only) the hogs call this_task::maybe_yield()
//                    between slices of work: the runtime's answer, and what it costs.
// The window starts when the root has spawned the ticker (which first sleeps) and ends a
// fixed time later for everyone: the hogs read the clock, so a starved ticker cannot
// hold them (or the run) past it.
//
// Invariant: the ticks served plus the ticks missed are the ticks expected; an iteration
// where they are not fails the entry.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tasks/task_runtime.h"
#include "workloads/percentile.h"
#include "workloads/timing_support.h"

namespace greenbench {

enum class HogVia { spin, maybe_yield };

inline const char* hog_via_name(HogVia via) { return via == HogVia::spin ? "spin" : "maybe_yield"; }

template <class RT>
concept HasMaybeYield = requires {
  RT::maybe_yield();
};

inline constexpr std::chrono::milliseconds kTickPeriod{1};

namespace fairness_detail {

// One unit of a hog's work: 256 dependent multiply-adds (about a microsecond) the
// compiler cannot drop.
inline std::uint64_t burn(std::uint64_t x) {
  for (int i = 0; i < 256; ++i) x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

}  // namespace fairness_detail

template <TaskRuntime RT>
void fairness_workload(benchmark::State& state, const RT& rt, int hogs, HogVia via,
                       std::chrono::milliseconds window) {
  fail_entry_on_exception(state, [&] {
    if constexpr (!HasMaybeYield<RT>) {
      if (via == HogVia::maybe_yield) {
        state.SkipWithError("fairness: via:maybe_yield needs a runtime with maybe_yield");
        return;
      }
    }
    const std::int64_t expected = window / kTickPeriod;
    rt.run([&] {
      IterationCounters counters;
      for (auto _ : state) {
        const ProcessUsage usage = ProcessUsage::now();
        const Clock::time_point start = Clock::now();
        const Clock::time_point end = start + window;
        std::vector<std::int64_t> lateness_ns;
        lateness_ns.reserve(static_cast<std::size_t>(expected));
        std::int64_t missed = 0;
        auto ticker = rt.spawn([&] {
          for (std::int64_t k = 1; k <= expected;) {
            const Clock::time_point deadline = start + k * kTickPeriod;
            RT::sleep_until(deadline);
            const Clock::time_point woke = Clock::now();
            lateness_ns.push_back(
                std::chrono::duration_cast<std::chrono::nanoseconds>(woke - deadline).count());
            // Deadlines already past when it woke are skipped.
            const std::int64_t next = std::max(k + 1, (woke - start) / kTickPeriod + 1);
            missed += std::min(next, expected + 1) - (k + 1);
            k = next;
          }
        });
        std::atomic<std::int64_t> hog_work{0};
        std::vector<typename RT::Handle> hog_tasks;
        for (int h = 0; h < hogs; ++h) {
          hog_tasks.push_back(rt.spawn([&, h] {
            std::uint64_t x = static_cast<std::uint64_t>(h) + 1;
            std::int64_t done = 0;
            while (Clock::now() < end) {
              x = fairness_detail::burn(x);
              ++done;
              if constexpr (HasMaybeYield<RT>) {
                if (via == HogVia::maybe_yield) RT::maybe_yield();
              }
            }
            benchmark::DoNotOptimize(x);
            hog_work += done;
          }));
        }
        for (auto& h : hog_tasks) h.join();
        ticker.join();
        const double seconds = seconds_between(start, Clock::now());
        state.SetIterationTime(seconds);
        const auto served = static_cast<std::int64_t>(lateness_ns.size());
        if (served + missed != expected) {
          state.SkipWithError(("fairness: " + std::to_string(served) + " ticks served and " +
                               std::to_string(missed) + " missed, " + std::to_string(expected) + " expected")
                                  .c_str());
          break;
        }
        std::sort(lateness_ns.begin(), lateness_ns.end());
        counters.add("lateness_p50_us", nearest_rank(lateness_ns, 0.50) / 1e3);
        counters.add("lateness_p99_us", nearest_rank(lateness_ns, 0.99) / 1e3);
        counters.add("lateness_max_us", static_cast<double>(lateness_ns.back()) / 1e3);
        counters.add("ticks", static_cast<double>(served));
        counters.add("ticks_missed", static_cast<double>(missed));
        counters.add("ticks_expected", static_cast<double>(expected));
        counters.add("hog_work_per_second", static_cast<double>(hog_work.load()) / seconds);
        ProcessUsage::now().add_since(usage, static_cast<double>(served), counters);
      }
      counters.publish(state);
    });
  });
}

}  // namespace greenbench
