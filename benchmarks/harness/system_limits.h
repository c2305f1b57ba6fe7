// system_limits.h: the limits on how many tasks one process can hold, read from this
// machine, and which of them binds. Feeds the results context's `limits` object, the
// probe's refusal of sizes the limits make impossible, and max_count's `bound:` label.
//
// Invariant: a limit that does not apply or cannot be read is -1 (unlimited/unknown),
// never a guess; RLIMIT_NPROC is reported but never counted as binding for root, whom
// the kernel does not hold to it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tasks/task_runtime.h"

namespace greenbench {

struct SystemLimits {
  std::int64_t pid_max = -1;        // /proc/sys/kernel/pid_max: every thread takes a pid
  std::int64_t threads_max = -1;    // /proc/sys/kernel/threads-max
  std::int64_t max_map_count = -1;  // /proc/sys/vm/max_map_count: mappings per process
  std::int64_t rlimit_nproc = -1;   // RLIMIT_NPROC (soft)
  std::int64_t rlimit_nofile = -1;  // RLIMIT_NOFILE (soft)
  std::int64_t mem_total_bytes = -1;
  std::int64_t mem_available_bytes = -1;
  std::int64_t cgroup_pids_max = -1;  // the tightest pids.max of this process's cgroups
};
SystemLimits read_system_limits();

struct Headroom {
  std::optional<std::int64_t> tasks;  // none: no limit applies; may be below zero when the
                                      // formulas overestimate what is in use
  std::string bound;                  // the limit that binds first: pid_max, threads_max, ...
};

// How many more OS threads this process can start before the first limit binds:
// pid_max (less the pids in use and the 300 the kernel reserves), threads-max, the cgroup
// pids.max, RLIMIT_NPROC (not for root), and max_map_count (two mappings per thread
// stack: the stack and its guard page).
Headroom thread_headroom();

// The `bound:` of max_count when spawning a task of `kind` failed with errno `error`: the
// limit whose headroom is gone (max_map_count for any kind, the thread limits for OS
// threads), else "errno:<NAME>".
std::string spawn_failure_bound(TaskKind kind, int error);

}  // namespace greenbench
