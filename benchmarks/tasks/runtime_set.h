// runtime_set.h: the runtime configurations the suite measures, and the adapter an
// entry-name prefix names.
//
// On a machine where this process may use C CPUs (allowed_cpus()), the suite measures
//   OS threads:       std_thread, pthread/stack:default, pthread/stack:64KiB
//   M:N on W workers: fiber/workers:W and Boost.Fiber with alloc:default and alloc:pooled,
//                     sched:round_robin when W is 1, sched:work_stealing/workers:W otherwise
// at W = 1 and W = C ("all cores"); a workload may ask for another W (switch's cpus:2).
//
// Invariant: for every runtime these functions visit, runtime_named(rt.prefix()) holds an
// adapter with that same prefix, so a prefix printed by one program (the timing binary's
// entry names, the driver) selects the same configuration in another (the probe).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "boost_fiber/boost_fiber_runtime.h"
#include "tasks/fiber_runtime.h"
#include "threads/pthread_runtime.h"
#include "threads/std_thread_runtime.h"

namespace greenbench {

// pthread/stack:64KiB: a small fixed stack, for the thread rows that compete on memory.
inline constexpr std::size_t kSmallPthreadStack = 64 * 1024;

using AnyRuntime = std::variant<FiberRuntime, StdThreadRuntime, PthreadRuntime, BoostFiberRuntime>;

template <class Visit>
void for_each_os_thread_runtime(Visit&& visit) {
  visit(StdThreadRuntime{});
  visit(PthreadRuntime{0});
  visit(PthreadRuntime{kSmallPthreadStack});
}

template <class Visit>
void for_each_m_to_n_runtime(unsigned workers, Visit&& visit) {
  using Boost = BoostFiberRuntime;
  const Boost::Scheduler scheduler =
      workers == 1 ? Boost::Scheduler::round_robin : Boost::Scheduler::work_stealing;
  visit(FiberRuntime{workers});
  visit(Boost{scheduler, workers, Boost::Stacks::fixedsize});
  visit(Boost{scheduler, workers, Boost::Stacks::pooled});
}

// The worker counts the suite measures M:N runtimes at: 1 and all usable CPUs.
std::vector<unsigned> suite_worker_counts();

// The worker counts of the scaling entries (issue 16) unless asked for others: 1, 2, 4, ...
// below the usable CPUs, and the usable CPUs (1, 2, 4, 6 on 6 CPUs), so that rows of
// machines with different core counts meet at the same W.
std::vector<unsigned> scaling_worker_counts();

// A --workers list, "1,2,4": positive counts up to 1024, each once; nullopt otherwise.
std::optional<std::vector<unsigned>> parse_worker_counts(std::string_view list);

// Every prefix the suite measures, OS threads first.
std::vector<std::string> suite_runtime_prefixes();

// The adapter a prefix names ("fiber/workers:3" works for any worker count from 1 to
// 1024, "pthread/stack:NKiB" for any N from 16 up in 4 KiB steps), or nullopt.
std::optional<AnyRuntime> runtime_named(std::string_view prefix);

}  // namespace greenbench
