// workload_max_count.h: the max_count workload (a probe, run in a fresh process each
// time): how many parked tasks (parked_tasks.h) one process holds before something stops
// it. It spawns until
//   memory_budget  the memory the budget counts would pass the budget: this process's
//                  resident bytes (smaps_rollup Rss) plus its kernel memory (page tables
//                  and kernel stacks, procfs.h's KernelMemory), both absolute, as the Go
//                  peer's budget. It is read at checkpoints, once every task
//                  spawned so far is alive (fibers get their stacks when they first run,
//                  threads touch theirs when they start), and the next checkpoint is
//                  never further than a quarter of what the average cost so far says
//                  still fits (nor kCheckEvery spawns), so the run stops before the
//                  budget is exceeded, not after (an allocator that grows in blocks
//                  bigger than that margin, as boost::pool does by doubling, can still
//                  step past it in one spawn: the probe then says so in the context's
//                  warnings);
//   cap            the cap on tasks is reached;
//   time           the time limit has passed (looked at on each checkpoint);
//   a limit        a spawn fails: system_limits.h names the limit that bound
//                  (pid_max, threads_max, cgroup_pids, rlimit_nproc, max_map_count) or
//                  the errno.
// bytes_per_task is the growth of that same measure over the tasks, so it includes the
// kernel side (a thread's kernel stack, every task's page tables), and 8-16 bytes per
// task of our own handle bookkeeping.
//
// Invariant: every task counted in max_tasks is alive when the final reading is taken,
// and all of them have been released and joined before the measurement returns.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <new>
#include <string>
#include <system_error>

#include "harness/procfs.h"
#include "harness/system_limits.h"
#include "tasks/task_runtime.h"
#include "workloads/parked_tasks.h"
#include "workloads/timing_support.h"

namespace greenbench {

// Most spawns between two checkpoints: a reading costs well under a millisecond, 4096
// threads tens of milliseconds (the Go peer checks every 4096 spawns too).
inline constexpr std::int64_t kCheckEvery = 4096;
// The budget is spent in steps of a quarter of what the average cost says still fits, and
// the run stops once room for fewer than this many tasks is left: the marginal cost of a
// few threads runs up to twice the average (slab and page-table pages come in lumps).
inline constexpr double kStopWhenRoomFor = 64;

struct MaxCountLimits {
  std::int64_t budget_bytes = 0;
  std::int64_t cap = 0;
  double time_limit_seconds = 0;
};

struct MaxCountResult {
  std::int64_t tasks = 0;          // alive at the final reading
  std::string bound;               // what stopped it (without "bound:")
  double seconds = 0;              // spawning until all were alive
  double cpu_seconds = 0;          // process CPU time over the same
  std::int64_t memory_before = 0;  // the budget's measure before the first spawn
  std::int64_t memory_after = 0;   // and with every task alive
  std::int64_t maps = 0;           // mappings of the process with every task alive
  std::int64_t left_alive = 0;     // after release and join (0)
};

template <TaskRuntime RT>
MaxCountResult measure_max_count(const RT& rt, const MaxCountLimits& limits) {
  MaxCountResult result;
  rt.run([&] {
    ParkedTasks<RT> parked(rt, 0);
    const auto budget_measure = [] { return resident_bytes() + process_kernel_memory().bytes(); };
    result.memory_before = budget_measure();
    result.bound = "cap";
    const auto began = Clock::now();
    const ProcessUsage usage_before = ProcessUsage::now();
    std::int64_t next_checkpoint = 0;
    while (parked.spawned() < limits.cap) {
      if (parked.spawned() == next_checkpoint) {
        const std::int64_t spawned = parked.spawned();
        parked.wait_alive();  // a task that has not run yet may not have its stack yet
        const std::int64_t used = budget_measure();
        const double per_task =
            spawned > 0
                ? static_cast<double>(std::max<std::int64_t>(used - result.memory_before, 0)) / spawned
                : 0;
        const double fits = per_task > 0 ? static_cast<double>(limits.budget_bytes - used) / per_task
                                         : static_cast<double>(kCheckEvery);
        if (used >= limits.budget_bytes || fits < kStopWhenRoomFor) {
          result.bound = "memory_budget";
          break;
        }
        if (seconds_between(began, Clock::now()) >= limits.time_limit_seconds) {
          result.bound = "time";
          break;
        }
        // Few spawns while the average is unknown, then doubling up to kCheckEvery.
        const std::int64_t step =
            std::clamp<std::int64_t>(static_cast<std::int64_t>(fits / 4), 1,
                                     std::min(kCheckEvery, std::max<std::int64_t>(spawned, 1)));
        next_checkpoint = spawned + step;
      }
      try {
        parked.spawn();
      } catch (const std::system_error& error) {
        result.bound = spawn_failure_bound(RT::kind, error.code().value());
        break;
      } catch (const std::bad_alloc&) {
        result.bound = spawn_failure_bound(RT::kind, ENOMEM);
        break;
      }
    }
    result.tasks = parked.wait_alive();
    result.seconds = seconds_between(began, Clock::now());
    result.cpu_seconds = ProcessUsage::now().cpu_seconds - usage_before.cpu_seconds;
    result.memory_after = budget_measure();
    result.maps = map_count();
    result.left_alive = parked.release_all();
  });
  return result;
}

}  // namespace greenbench
