// workload_create.h: the create workload: what starting a task and waiting for it costs.
//   mode:sequential  spawn one task and join it, N times
//   mode:batch       spawn N tasks, then join them all
// Each task only counts itself. ns_per_task is the steady_clock wall time of the whole
// loop (spawn, run, join, stack release) divided by N; never CPU time, since joins block.
// One unreported warm-up iteration runs first (as in the Go and Python peers), so every
// timed iteration finds the runtime's stack pools and caches in their steady state,
// whatever number of iterations Google Benchmark picks.
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
#include "workloads/timing_support.h"

namespace greenbench {

enum class CreateMode { sequential, batch };

inline const char* create_mode_name(CreateMode mode) {
  return mode == CreateMode::sequential ? "sequential" : "batch";
}

template <TaskRuntime RT>
void create_workload(benchmark::State& state, const RT& rt, CreateMode mode, std::int64_t n) {
  fail_entry_on_exception(state, [&] {
    rt.run([&] {
      std::vector<typename RT::Handle> handles(mode == CreateMode::batch ? n : 0);
      std::atomic<std::int64_t> ran{0};
      const auto task = [&ran] { ran.fetch_add(1, std::memory_order_relaxed); };
      // One iteration: the wall seconds; `ran` counts the tasks that ran.
      const auto create_all = [&](MeasuredPart::Kind kind) {
        ran.store(0);
        MeasuredPart part(kind);
        if (mode == CreateMode::sequential) {
          for (std::int64_t i = 0; i < n; ++i) rt.spawn(task).join();
        } else {
          for (auto& handle : handles) handle = rt.spawn(task);
          for (auto& handle : handles) handle.join();
        }
        return part.seconds();
      };
      // Warm-up, unreported: stack pools and caches filled, as the peers do.
      create_all(MeasuredPart::warm_up);
      IterationCounters counters;
      for (auto _ : state) {
        const ProcessUsage usage = ProcessUsage::now();
        const double seconds = create_all(MeasuredPart::measured);
        const ProcessUsage after = ProcessUsage::now();
        const std::int64_t tasks = ran.load();
        benchmark::DoNotOptimize(tasks);
        state.SetIterationTime(seconds);
        if (tasks != n) {
          state.SkipWithError(("create: " + std::to_string(tasks) + " tasks ran, " +
                               std::to_string(n) + " were spawned")
                                  .c_str());
          break;
        }
        counters.add("ns_per_task", seconds * 1e9 / static_cast<double>(n));
        after.add_since(usage, static_cast<double>(n), counters);
        counters.add("tasks", static_cast<double>(tasks));
      }
      counters.publish(state);
    });
  });
}

}  // namespace greenbench
