// workload_memory.h: the memory workload (a probe, run in a fresh process each time): what
// N tasks cost while all of them are alive and parked (parked_tasks.h). Readings are
// taken inside the runtime before the first spawn and again once every task has counted
// itself alive; per-task figures are the deltas over N:
//   rss, pss   /proc/self/smaps_rollup Rss and Pss (exact)
//   vsz        /proc/self/statm size: address space reserved (thread stacks reserve 8 MiB)
//   page_table /proc/self/status VmPTE: this process's page tables (procfs.h)
//   kernel_stack /proc/self/status Threads x THREAD_SIZE (16 KiB): an OS thread's kernel
//              stack; page tables and kernel stacks are the process's own, so neither
//              other processes nor an earlier child's deferred frees move them
// With a StackUse (parked_tasks.h) of `bytes` (entry parameter depth:NKiB), each task parks
// under that much stack in use (stack_depth.h): the cost of a task blocked deep in its
// calls, where a thread's or a fiber's lazily committed stack and a goroutine's grown one
// show what they really hold. With `returned` (recursed:NKiB), each task went that deep
// once, returned and parks shallow; a third reading, `settled`, is taken after `settle`
// (the root task sleeping in its runtime, all N still parked): what a runtime that gives
// back a parked task's unused stack (a trimmer in the background) has given back by then.
// There is no warm-up: pools a runtime fills on first use are part of what N tasks cost,
// and a warm-up would leave freed stacks in them that the measured tasks then reuse.
//
// Invariant: the second (and third) reading is taken while all N tasks are alive (counted
// by themselves), and the measurement ends only after every task was released and joined.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/procfs.h"
#include "tasks/task_runtime.h"
#include "workloads/parked_tasks.h"
#include "workloads/timing_support.h"

namespace greenbench {

struct MemoryResult {
  MemoryReading before;
  MemoryReading after;
  std::optional<MemoryReading> settled;  // after `settle`, where one was asked for
  std::int64_t alive = 0;        // tasks alive at the second reading
  std::int64_t left_alive = 0;   // tasks alive after release and join (0)
  double spawn_seconds = 0;      // spawning N until all were alive
  double spawn_cpu_seconds = 0;  // process CPU time over the same
  std::vector<std::pair<std::string, double>> run_counters;  // the runtime's report, where it gives one
};

template <TaskRuntime RT>
MemoryResult measure_memory(const RT& rt, std::int64_t n, StackUse stack = {},
                            std::optional<std::chrono::milliseconds> settle = std::nullopt) {
  MemoryResult result;
  auto root = [&] {
    ParkedTasks<RT> parked(rt, static_cast<std::size_t>(n), stack);
    result.before = read_memory();
    const auto began = Clock::now();
    const ProcessUsage usage_before = ProcessUsage::now();
    for (std::int64_t i = 0; i < n; ++i) parked.spawn();
    result.alive = parked.wait_alive();
    result.spawn_seconds = seconds_between(began, Clock::now());
    result.spawn_cpu_seconds = ProcessUsage::now().cpu_seconds - usage_before.cpu_seconds;
    result.after = read_memory();
    if (settle) {
      RT::sleep_until(Clock::now() + *settle);
      result.settled = read_memory();
    }
    result.left_alive = parked.release_all();
  };
  result.run_counters = run_reporting(rt, root);
  return result;
}

}  // namespace greenbench
