// workload_skynet.h: the skynet benchmark (github.com/atemerev/skynet): a tree of tasks,
// each with 10 children, down to n leaves; leaf k returns its ordinal k, every inner task
// returns the sum of its children's results, so the root's result is n(n-1)/2. Every task
// of the tree is spawned and joined: for n = 1,000,000 that is 1,111,111 tasks.
// Two ways for a child's result to reach its parent, each run on every runtime, so rows
// compare like with like (the Go peer has both too):
//   via:join     the child writes its result into a slot of its parent's frame, which
//                joins it: no channel, no allocation beyond what spawning costs.
//   via:channel  atemerev's original: the child sends its result on its parent's
//                unbuffered channel (RT::Channel) and the parent receives ten; then it
//                joins them, as every task is joined here (Go's goroutines are not).
//   ms_wall      wall time from spawning the root task to joining it
//   ns_per_task  ms_wall per task created (1,111,111 for n = 1M)
//   sum, tasks   the result and the tasks counted by the tree itself (each task adds one
//                to its children's count)
//   peak_live_tasks  the most tasks live at once (live_tasks.h), counted in the warm-up:
//                the traversal order differs between runtimes (a FIFO run queue goes
//                breadth-first and holds up to ~n stacks; Boost.Fiber's dispatch runs a
//                child at spawn, depth-first), and with it the memory a tree needs
//   peak_rss_bytes   the process's peak Rss during a timed run (timing_support.h)
// One unreported warm-up run comes first, as in create.
// OS threads run it at n:10000 (11,111 threads): the largest power of ten whose tree fits
// under pid_max here (32,768); n:100000 would need up to 111,111 threads alive at once.
//
// Invariant: an iteration whose sum is not n(n-1)/2, or whose task count is not
// (10n-1)/9, fails the entry with both numbers in the message.
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string>

#include "tasks/task_runtime.h"
#include "workloads/live_tasks.h"
#include "workloads/timing_support.h"

namespace greenbench {

struct SkynetResult {
  std::int64_t sum = 0;
  std::int64_t tasks = 0;
};

inline constexpr int kSkynetFanOut = 10;

// Tasks in the tree for n leaves (n a power of 10): n + n/10 + ... + 1.
constexpr std::int64_t skynet_tasks(std::int64_t n) { return (kSkynetFanOut * n - 1) / (kSkynetFanOut - 1); }
constexpr std::int64_t skynet_sum(std::int64_t n) { return n * (n - 1) / 2; }

// The task for the `size` leaves starting at `ordinal`; counted as live in `gauge` when set.
template <TaskRuntime RT>
void skynet_task(const RT& rt, std::int64_t ordinal, std::int64_t size, SkynetResult& out,
                 LiveTaskGauge* gauge) {
  const LiveTask live(gauge);
  if (size == 1) {
    out = {ordinal, 1};
    return;
  }
  const std::int64_t child_size = size / kSkynetFanOut;
  std::array<SkynetResult, kSkynetFanOut> results;
  std::array<typename RT::Handle, kSkynetFanOut> children;
  for (int i = 0; i < kSkynetFanOut; ++i) {
    children[i] = rt.spawn([&rt, &result = results[i], first = ordinal + i * child_size, child_size, gauge] {
      skynet_task(rt, first, child_size, result, gauge);
    });
  }
  for (auto& child : children) child.join();
  out = {0, 1};
  for (const SkynetResult& r : results) {
    out.sum += r.sum;
    out.tasks += r.tasks;
  }
}

// The same tree, each result sent on the parent's channel.
template <TaskRuntime RT>
void skynet_task_via_channel(const RT& rt, std::int64_t ordinal, std::int64_t size,
                             typename RT::template Channel<SkynetResult>& out, LiveTaskGauge* gauge) {
  const LiveTask live(gauge);
  if (size == 1) {
    out.send({ordinal, 1});
    return;
  }
  const std::int64_t child_size = size / kSkynetFanOut;
  typename RT::template Channel<SkynetResult> results;
  std::array<typename RT::Handle, kSkynetFanOut> children;
  for (int i = 0; i < kSkynetFanOut; ++i) {
    children[i] = rt.spawn([&rt, &results, first = ordinal + i * child_size, child_size, gauge] {
      skynet_task_via_channel(rt, first, child_size, results, gauge);
    });
  }
  SkynetResult total{0, 1};
  for (int i = 0; i < kSkynetFanOut; ++i) {
    const SkynetResult r = results.recv();
    total.sum += r.sum;
    total.tasks += r.tasks;
  }
  for (auto& child : children) child.join();
  out.send(total);
}

enum class SkynetVia { join, channel };

inline const char* skynet_via_name(SkynetVia via) { return via == SkynetVia::join ? "join" : "channel"; }

// One whole tree from the root, as `via` says; its result. Tasks count as live in `gauge`
// when set.
template <TaskRuntime RT>
SkynetResult skynet_tree(const RT& rt, std::int64_t n, SkynetVia via, LiveTaskGauge* gauge) {
  SkynetResult result;
  if (via == SkynetVia::join) {
    rt.spawn([&] { skynet_task(rt, 0, n, result, gauge); }).join();
    return result;
  }
  typename RT::template Channel<SkynetResult> root;
  auto handle = rt.spawn([&] { skynet_task_via_channel(rt, 0, n, root, gauge); });
  result = root.recv();
  handle.join();
  return result;
}

template <TaskRuntime RT>
void skynet_workload(benchmark::State& state, const RT& rt, std::int64_t n, SkynetVia via) {
  fail_entry_on_exception(state, [&] {
    run_recording(state, rt, [&] {
      SkynetResult result;
      const auto run_tree = [&](MeasuredPart::Kind kind, LiveTaskGauge* gauge) {
        MeasuredPart part(kind);
        result = skynet_tree(rt, n, via, gauge);
        return part.seconds();
      };
      LiveTaskGauge live;
      run_tree(MeasuredPart::warm_up, &live);  // unreported, as in create
      IterationCounters counters;
      for (auto _ : state) {
        const PeakResident peak;
        const ProcessUsage usage = ProcessUsage::now();
        const double seconds = run_tree(MeasuredPart::measured, nullptr);
        const ProcessUsage after = ProcessUsage::now();
        benchmark::DoNotOptimize(result);
        state.SetIterationTime(seconds);
        if (result.sum != skynet_sum(n) || result.tasks != skynet_tasks(n)) {
          state.SkipWithError(("skynet: sum " + std::to_string(result.sum) + " (want " +
                               std::to_string(skynet_sum(n)) + "), tasks " + std::to_string(result.tasks) +
                               " (want " + std::to_string(skynet_tasks(n)) + ")")
                                  .c_str());
          break;
        }
        counters.add("ms_wall", seconds * 1e3);
        counters.add("ns_per_task", seconds * 1e9 / static_cast<double>(result.tasks));
        after.add_since(usage, static_cast<double>(result.tasks), counters);
        peak.add_to(counters);
        counters.add("peak_live_tasks", static_cast<double>(live.peak()));
        counters.add("sum", static_cast<double>(result.sum));
        counters.add("tasks", static_cast<double>(result.tasks));
      }
      counters.publish(state);
    });
  });
}

}  // namespace greenbench
