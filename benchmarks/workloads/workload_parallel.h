// workload_parallel.h: two scaling workloads (issue 16) of P tasks at once, where P is the
// entry's worker count W (M:N runtimes on W workers, Go at GOMAXPROCS=W, OS threads on W
// CPUs: one pair or producer per CPU), and the work n is fixed, so that the rows of one
// runtime at each W show how its time for the same work falls with cores:
//   pairs   P independent ping-pong pairs, each two tasks handing control to each other
//           through two RT::Events, n/(2P) round trips each: n one-way hand-offs in all.
//           ns_per_switch = wall / hand-offs; switches counted by the tasks.
//   fanin   P producers each send n/P values on one unbuffered RT::Channel, received by
//           the root: every message meets the one receiver. ns_per_message = wall /
//           messages; messages counted by the receiver, the sum checked.
// The wall time covers spawning the tasks (2P or P, against n hand-offs or messages),
// the work and the joins. One unreported warm-up run comes first, as in create. The
// process's CPU time over the run (cpu_ns_per_op, timing_support.h) shows what idle or
// spinning workers cost beside the wall time.
//
// Invariant: an iteration whose counted hand-offs or messages (or the values' sum) differ
// from what was asked for fails the entry.
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tasks/task_runtime.h"
#include "workloads/timing_support.h"

namespace greenbench {

enum class ParallelWorkload { pairs, fanin };

inline const char* parallel_workload_name(ParallelWorkload workload) {
  return workload == ParallelWorkload::pairs ? "pairs" : "fanin";
}

// What one run did, counted by its tasks, and what it should have done.
struct ParallelCount {
  std::int64_t done = 0, expected = 0;
  std::int64_t sum = 0, expected_sum = 0;  // fanin only
};

// P pairs, n/(2P) round trips each.
template <TaskRuntime RT>
ParallelCount run_pairs(const RT& rt, unsigned p, std::int64_t n) {
  struct Pair {
    std::array<typename RT::Event, 2> wake;
    std::array<std::int64_t, 2> switched_in{0, 0};
  };
  const std::int64_t round_trips = n / (2 * static_cast<std::int64_t>(p));
  std::vector<Pair> pairs(p);
  std::vector<typename RT::Handle> tasks;
  tasks.reserve(2 * p);
  for (Pair& pair : pairs) {
    tasks.push_back(rt.spawn([&pair, round_trips] {
      for (std::int64_t r = 0; r < round_trips; ++r) {
        pair.wake[1].signal();
        pair.wake[0].wait();
        ++pair.switched_in[0];
      }
    }));
    tasks.push_back(rt.spawn([&pair, round_trips] {
      for (std::int64_t r = 0; r < round_trips; ++r) {
        pair.wake[1].wait();
        ++pair.switched_in[1];
        pair.wake[0].signal();
      }
    }));
  }
  for (auto& task : tasks) task.join();
  ParallelCount count{0, 2 * round_trips * p};
  for (const Pair& pair : pairs) count.done += pair.switched_in[0] + pair.switched_in[1];
  return count;
}

// P producers of n/P values each (1, 2, ... n/P) on one channel; the caller receives.
template <TaskRuntime RT>
ParallelCount run_fanin(const RT& rt, unsigned p, std::int64_t n) {
  const std::int64_t each = n / p;
  typename RT::template Channel<std::int64_t> channel;
  std::vector<typename RT::Handle> producers;
  producers.reserve(p);
  for (unsigned i = 0; i < p; ++i) {
    producers.push_back(rt.spawn([&channel, each] {
      for (std::int64_t v = 1; v <= each; ++v) channel.send(v);
    }));
  }
  ParallelCount count{0, each * p, 0, static_cast<std::int64_t>(p) * (each * (each + 1) / 2)};
  for (; count.done < count.expected; ++count.done) count.sum += channel.recv();
  for (auto& producer : producers) producer.join();
  return count;
}

template <TaskRuntime RT>
void parallel_workload(benchmark::State& state, const RT& rt, ParallelWorkload workload, unsigned p,
                       std::int64_t n) {
  const char* per = workload == ParallelWorkload::pairs ? "ns_per_switch" : "ns_per_message";
  const char* counted = workload == ParallelWorkload::pairs ? "switches" : "messages";
  fail_entry_on_exception(state, [&] {
    run_recording(state, rt, [&] {
      ParallelCount count;
      const auto run_once = [&] {
        const auto began = Clock::now();
        count = workload == ParallelWorkload::pairs ? run_pairs(rt, p, n) : run_fanin(rt, p, n);
        return seconds_between(began, Clock::now());
      };
      run_once();  // warm-up, unreported, as in create
      IterationCounters counters;
      for (auto _ : state) {
        const ProcessUsage usage = ProcessUsage::now();
        const double seconds = run_once();
        const ProcessUsage after = ProcessUsage::now();
        state.SetIterationTime(seconds);
        if (count.done != count.expected || count.sum != count.expected_sum) {
          state.SkipWithError((std::string(parallel_workload_name(workload)) + ": " +
                               std::to_string(count.done) + " " + counted + " (want " +
                               std::to_string(count.expected) + "), sum " + std::to_string(count.sum) +
                               " (want " + std::to_string(count.expected_sum) + ")")
                                  .c_str());
          break;
        }
        const double done = static_cast<double>(count.done);
        counters.add(per, seconds * 1e9 / done);
        after.add_since(usage, done, counters);
        counters.add(counted, done);
      }
      counters.publish(state);
    });
  });
}

}  // namespace greenbench
