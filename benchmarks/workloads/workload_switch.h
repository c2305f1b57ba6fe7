// workload_switch.h: the switch workload: what passing control from one task to another
// costs. Two tasks take turns; ns_per_switch is the wall time of one one-way switch (a
// round trip is two), switches the one-way switches the tasks counted.
//   via:yield    a task whose turn it is not calls RT::yield() until it is (strict
//                alternation, so a yield that returns without switching costs time but
//                is never counted as a switch). Defined for cpus:1 only: with two CPUs
//                each task would yield to nobody (the Go peer refuses it too).
//   via:handoff  a task wakes the other through RT::Event and parks on its own.
//   cpus:1       OS threads: the whole process is pinned to one CPU for the entry, so
//                every switch is a kernel context switch on that CPU. M:N runtimes: one
//                worker, so every switch is a user-space switch.
//   cpus:2       OS threads: the two tasks are pinned to two different CPUs, so every
//                hand-off is a cross-CPU futex wake. M:N runtimes: two workers, and the
//                runtime decides where the woken task runs: greenbench's fiber runtime
//                queues it on the waker's worker (which then parks and runs it), so the
//                pair mostly stays on one worker (the idle one may steal the woken task
//                before the waker parks); Boost.Fiber's work_stealing lets the other
//                thread steal it. This row measures what the runtime does given two
//                workers, not a forced cross-core wake.
//   place:same   (before cpus:2; runtimes that can place tasks, PlacingRuntime: ours) both
//                tasks pinned to worker 0 of the two: every hand-off stays on one worker.
//   place:cross  the tasks pinned to workers 0 and 1: every hand-off wakes a task on the
//                other worker, the M:N analog of the threads' cpus:2 row. Go cannot place
//                goroutines, Boost.Fiber here cannot keep a fiber on a thread of two
//                (task_runtime.h): neither has these rows.
// The measured interval starts after one full warm-up round trip (both tasks exist and
// have run) and ends when the last switch lands, so task creation is outside it.
//
// Invariant: the tasks count their own switches; an iteration whose count differs from
// the switches asked for fails the entry.
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/cpu_affinity.h"
#include "tasks/task_runtime.h"
#include "workloads/timing_support.h"

namespace greenbench {

enum class SwitchVia { yield, handoff };

inline const char* switch_via_name(SwitchVia via) { return via == SwitchVia::yield ? "yield" : "handoff"; }

// Where the two tasks run: wherever the runtime puts them (no place: in the name), or
// pinned to one worker or to two.
enum class SwitchPlace { runtime, same, cross };

inline const char* switch_place_name(SwitchPlace place) {
  return place == SwitchPlace::same ? "same" : place == SwitchPlace::cross ? "cross" : "runtime";
}

namespace switch_detail {

template <TaskRuntime RT>
struct Pair {
  Pair(SwitchVia how, std::int64_t switches) : via(how), round_trips(switches / 2) {}

  const SwitchVia via;
  const std::int64_t round_trips;  // timed
  std::atomic<int> turn{0};        // whose turn it is: 0 or 1
  std::array<typename RT::Event, 2> wake;
  std::array<std::int64_t, 2> switched_in{0, 0};  // counted by each task, timed part only
  double seconds = 0;                             // of the timed round trips

  void wait_turn(int me) {
    if (via == SwitchVia::handoff) wake[me].wait();
    while (turn.load(std::memory_order_acquire) != me) RT::yield();
  }
  void pass_turn(int me) {
    turn.store(1 - me, std::memory_order_release);
    if (via == SwitchVia::handoff) wake[1 - me].signal();
  }
};

// Task 0: warm-up round trip, then the timed round trips.
template <TaskRuntime RT>
void first(Pair<RT>& pair) {
  pair.wait_turn(0);
  pair.pass_turn(0);
  pair.wait_turn(0);
  MeasuredPart part(MeasuredPart::measured);
  for (std::int64_t i = 0; i < pair.round_trips; ++i) {
    pair.pass_turn(0);
    pair.wait_turn(0);
    ++pair.switched_in[0];
  }
  pair.seconds = part.seconds();
}

// Task 1: answers the warm-up, then every timed round trip.
template <TaskRuntime RT>
void second(Pair<RT>& pair) {
  pair.wait_turn(1);
  pair.pass_turn(1);
  for (std::int64_t i = 0; i < pair.round_trips; ++i) {
    pair.wait_turn(1);
    ++pair.switched_in[1];
    pair.pass_turn(1);
  }
}

}  // namespace switch_detail

// `switches`: one-way switches timed per iteration (even: half into each task).
template <TaskRuntime RT>
void switch_workload(benchmark::State& state, const RT& rt, SwitchVia via, unsigned cpus,
                     std::int64_t switches, SwitchPlace place = SwitchPlace::runtime) {
  fail_entry_on_exception(state, [&] {
    if (place != SwitchPlace::runtime && (!PlacingRuntime<RT> || cpus != 2)) {
      state.SkipWithError("switch: place:same and place:cross need a runtime that places tasks, at cpus:2");
      return;
    }
    const std::vector<int> usable = allowed_cpus();
    if (usable.size() < cpus) {
      state.SkipWithError(("switch: needs " + std::to_string(cpus) + " CPUs, this process may use " +
                           std::to_string(usable.size()))
                              .c_str());
      return;
    }
    if (RT::kind == TaskKind::user_space && rt.workers() != cpus) {
      state.SkipWithError("switch: an M:N runtime must run on as many workers as cpus");
      return;
    }
    const bool pin_each_task = RT::kind == TaskKind::os_thread && cpus == 2;
    std::optional<ScopedPin> whole_process;  // cpus:1 for OS threads: children inherit it
    if (RT::kind == TaskKind::os_thread && cpus == 1) whole_process.emplace(usable[0]);

    rt.run([&] {
      IterationCounters counters;
      for (auto _ : state) {
        const ProcessUsage usage = ProcessUsage::now();
        switch_detail::Pair<RT> pair(via, switches);
        if (via == SwitchVia::handoff) pair.wake[0].signal();  // task 0 holds the first turn
        auto task = [&](int me) {
          std::optional<ScopedPin> pin;
          if (pin_each_task) pin.emplace(usable[me]);
          me == 0 ? switch_detail::first(pair) : switch_detail::second(pair);
        };
        const auto start = [&](int me) {
          if constexpr (PlacingRuntime<RT>) {
            if (place != SwitchPlace::runtime) {
              return rt.spawn_on(place == SwitchPlace::cross ? me : 0, [&task, me] { task(me); });
            }
          }
          return rt.spawn([&task, me] { task(me); });
        };
        auto task0 = start(0);
        auto task1 = start(1);
        task0.join();
        task1.join();
        const double seconds = pair.seconds;
        const std::int64_t counted = pair.switched_in[0] + pair.switched_in[1];
        benchmark::DoNotOptimize(counted);
        state.SetIterationTime(seconds);
        if (counted != switches) {
          state.SkipWithError(("switch: " + std::to_string(counted) + " switches counted, " +
                               std::to_string(switches) + " expected")
                                  .c_str());
          break;
        }
        counters.add("ns_per_switch", seconds * 1e9 / static_cast<double>(counted));
        ProcessUsage::now().add_since(usage, static_cast<double>(counted), counters);
        counters.add("switches", static_cast<double>(counted));
      }
      counters.publish(state);
    });
  });
}

}  // namespace greenbench
