// fiber_runtime.h: greenbench's own M:N fiber runtime (runtime/, green::) as a TaskRuntime.
// Entry prefix "fiber/workers:W", or "fiber/workers:W/stack:NKiB" with a stack size other
// than the runtime's default.
//
// Hand-off: Event is the runtime's Channel<char> with one slot (signal is a try_send that
// never blocks, wait is a recv that parks the fiber); WaitGroup is the runtime's own, and
// Channel<T> its unbuffered Channel<T>.
// Stacks: the runtime's defaults (64 KiB reserved per fiber unless stack:NKiB says other, committed lazily,
// guard page by MADV_GUARD_INSTALL where the kernel has it). A woken fiber is queued on the waker's worker,
// so with two workers a ping-pong pair mostly stays on one worker, unless placed (spawn_on: green::spawn_on;
// workload_switch.h's place:same and place:cross). Sockets (Net, for the echo workload): green::net's, whose
// calls park the fiber on the runtime's netpoller, not its worker.
//
// What the runtime reports on a run (green::RunReport) is kept: run() returns it, and
// run_counters() turns it into the entry counters of docs/results-format.md (workloads
// record them through timing_support.h's run_recording).
//
// Invariant: run() fails (std::logic_error) if the root returned while tasks were still
// alive: the runtime abandons them, and a workload that leaves tasks behind measured
// something other than what it claims.
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "green/green.h"
#include "tasks/task_runtime.h"

namespace greenbench {

class FiberRuntime {
 public:
  static constexpr TaskKind kind = TaskKind::user_space;

  // `stack_bytes` zero: the runtime's default stack size (green::Config::stack_size).
  explicit FiberRuntime(unsigned workers, std::size_t stack_bytes = 0)
      : workers_(workers), stack_bytes_(stack_bytes) {}

  // "fiber/workers:W", then "/stack:NKiB" when the stack size is not the default.
  std::string prefix() const {
    std::string p = "fiber/workers:" + std::to_string(workers_);
    if (stack_bytes_ != 0) p += "/stack:" + std::to_string(stack_bytes_ / 1024) + "KiB";
    return p;
  }
  std::size_t stack_bytes() const { return stack_bytes_ != 0 ? stack_bytes_ : green::Config{}.stack_size; }
  unsigned workers() const { return workers_; }

  template <class F>
  green::RunReport run(F&& root) const {
    green::Config config;
    config.workers = workers_;
    config.stack_size = stack_bytes();
    const green::RunReport report = green::run(config, std::forward<F>(root));
    if (report.tasks_abandoned != 0) {
      throw std::logic_error(prefix() + ": the root returned with " + std::to_string(report.tasks_abandoned) +
                             " tasks still alive");
    }
    return report;
  }

  // The run's report as counters, over the whole run (warm-up and every iteration):
  // stacks_peak_in_use, stacks_mapped, stack_allocations, stacks_decommitted,
  // task_blocks_decommitted, parked_stacks_trimmed, parked_bytes_released,
  // unguarded_stacks, steals, and
  // stack_guard: 2 guard pages by MADV_GUARD_INSTALL, 1 by mprotect, 0 none.
  static std::vector<std::pair<std::string, double>> run_counters(const green::RunReport& report) {
    const std::string_view guard = report.guard_mode;
    const double stack_guard = guard == "madvise" ? 2 : guard == "mprotect" ? 1 : 0;
    return {{"stacks_peak_in_use", static_cast<double>(report.stacks_peak_in_use)},
            {"stacks_mapped", static_cast<double>(report.stacks_mapped)},
            {"stack_allocations", static_cast<double>(report.stack_allocations)},
            {"stacks_decommitted", static_cast<double>(report.stacks_decommitted)},
            {"task_blocks_decommitted", static_cast<double>(report.task_blocks_decommitted)},
            {"parked_stacks_trimmed", static_cast<double>(report.parked_stacks_trimmed)},
            {"parked_bytes_released", static_cast<double>(report.parked_bytes_released)},
            {"unguarded_stacks", static_cast<double>(report.unguarded_stacks)},
            {"steals", static_cast<double>(report.steals)},
            {"stack_guard", stack_guard}};
  }

  using Handle = green::JoinHandle<void>;

  template <class F>
  Handle spawn(F&& f) const {
    return green::spawn(std::forward<F>(f));
  }
  // The task stays on that worker for life (PlacingRuntime, task_runtime.h).
  template <class F>
  Handle spawn_on(unsigned worker, F&& f) const {
    return green::spawn_on(worker, std::forward<F>(f));
  }

  static void yield() { green::this_task::yield(); }
  static void sleep_until(std::chrono::steady_clock::time_point t) { green::this_task::sleep_until(t); }
  // Only ours has these two (workload_fairness.h's via:maybe_yield, workload_blocking.h's
  // via:blocking): the runtime's answers to a task that computes or blocks for long.
  static void maybe_yield() { green::this_task::maybe_yield(); }
  template <class F>
  static decltype(auto) blocking(F&& f) {
    return green::blocking(std::forward<F>(f));
  }

  class Event {
   public:
    void signal() {
      char token = 0;
      slot_.try_send(token);  // already signalled: a binary semaphore stays at one
    }
    void wait() { slot_.recv(); }

   private:
    green::Channel<char> slot_{1};
  };

  using WaitGroup = green::WaitGroup;

  template <class T>
  class Channel {
   public:
    void send(T value) { channel_.send(std::move(value)); }
    T recv() { return *channel_.recv(); }  // never closed, so always a value

   private:
    green::Channel<T> channel_;  // unbuffered, like make(chan T)
  };

  struct Net {
    using Listener = green::net::Listener;
    using Conn = green::net::Conn;
    // Waits before retrying an accept that failed for want of a resource (EMFILE).
    static void back_off(std::chrono::milliseconds pause) { green::this_task::sleep_for(pause); }
  };

 private:
  unsigned workers_;
  std::size_t stack_bytes_;  // 0: the runtime's default
};

static_assert(PlacingRuntime<FiberRuntime>);

}  // namespace greenbench
