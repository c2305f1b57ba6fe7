// workload_create.h: the create workload: what starting a task and waiting for it costs.
//   mode:sequential  spawn one task and join it, N times: one task live at a time
//   mode:batch       spawn N tasks that each park on a gate (an RT::WaitGroup of count 1)
//                    after saying so on `arrived` (another RT::WaitGroup); once all N have
//                    arrived, open the gate, wait for all N to finish on a third
//                    RT::WaitGroup, then join them. All N tasks, and their stacks, are live
//                    at once on every runtime: the same primitive releases and awaits them
//                    everywhere. (Spawning N and joining them in order lets a runtime that
//                    runs a task at its join and takes a stack at first run, ours, keep one
//                    or two stacks live: a different workload, not measured.)
// Each task only counts itself. ns_per_task is the steady_clock wall time of the whole
// loop (spawn, run, join, stack release) divided by N; never CPU time, since joins block.
// One unreported warm-up iteration runs first (as in the Go and Python peers), so every
// timed iteration finds the runtime's stack pools and caches in their steady state,
// whatever number of iterations Google Benchmark picks. The warm-up also counts the
// tasks live at once (live_tasks.h): peak_live_tasks, N for batch and 1 for sequential
// when the workload does what it says. peak_rss_bytes is the process's peak Rss during a
// timed iteration (timing_support.h).
//
// Invariant: the tasks count themselves (an atomic add each, as the Go peer does); an
// iteration in which the count differs from N fails the entry.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "tasks/task_runtime.h"
#include "workloads/live_tasks.h"
#include "workloads/timing_support.h"

namespace greenbench {

enum class CreateMode { sequential, batch };

inline const char* create_mode_name(CreateMode mode) {
  return mode == CreateMode::sequential ? "sequential" : "batch";
}

// One run of N tasks as `mode` says, every task counting itself in `ran` and, when
// `gauge` is set, as live (the warm-up).
template <TaskRuntime RT>
void create_tasks(const RT& rt, CreateMode mode, std::int64_t n, std::atomic<std::int64_t>& ran,
                  std::vector<typename RT::Handle>& handles, LiveTaskGauge* gauge) {
  if (mode == CreateMode::sequential) {
    for (std::int64_t i = 0; i < n; ++i) {
      rt.spawn([&ran, gauge] {
          const LiveTask live(gauge);
          ran.fetch_add(1, std::memory_order_relaxed);
        }).join();
    }
    return;
  }
  typename RT::WaitGroup arrived, gate, finished;
  arrived.add(n);
  gate.add(1);
  finished.add(n);
  for (auto& handle : handles) {
    handle = rt.spawn([&] {
      const LiveTask live(gauge);
      arrived.done();
      gate.wait();
      ran.fetch_add(1, std::memory_order_relaxed);
      finished.done();
    });
  }
  arrived.wait();  // all N started: parked on the gate, or about to be
  gate.done();
  finished.wait();
  for (auto& handle : handles) handle.join();
}

template <TaskRuntime RT>
void create_workload(benchmark::State& state, const RT& rt, CreateMode mode, std::int64_t n) {
  fail_entry_on_exception(state, [&] {
    run_recording(state, rt, [&] {
      std::vector<typename RT::Handle> handles(mode == CreateMode::batch ? n : 0);
      std::atomic<std::int64_t> ran{0};
      // One iteration: the wall seconds; `ran` counts the tasks that ran.
      const auto create_all = [&](MeasuredPart::Kind kind, LiveTaskGauge* gauge) {
        ran.store(0);
        MeasuredPart part(kind);
        create_tasks(rt, mode, n, ran, handles, gauge);
        return part.seconds();
      };
      LiveTaskGauge live;
      // Warm-up, unreported: stack pools and caches filled, as the peers do.
      create_all(MeasuredPart::warm_up, &live);
      IterationCounters counters;
      for (auto _ : state) {
        const PeakResident peak;
        const ProcessUsage usage = ProcessUsage::now();
        const double seconds = create_all(MeasuredPart::measured, nullptr);
        const ProcessUsage after = ProcessUsage::now();
        const std::int64_t tasks = ran.load();
        benchmark::DoNotOptimize(tasks);
        state.SetIterationTime(seconds);
        if (tasks != n) {
          state.SkipWithError(
              ("create: " + std::to_string(tasks) + " tasks ran, " + std::to_string(n) + " were spawned")
                  .c_str());
          break;
        }
        counters.add("ns_per_task", seconds * 1e9 / static_cast<double>(n));
        after.add_since(usage, static_cast<double>(n), counters);
        peak.add_to(counters);
        counters.add("tasks", static_cast<double>(tasks));
        counters.add("peak_live_tasks", static_cast<double>(live.peak()));
      }
      counters.publish(state);
    });
  });
}

}  // namespace greenbench
