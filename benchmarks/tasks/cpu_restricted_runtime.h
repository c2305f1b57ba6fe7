// cpu_restricted_runtime.h: an OS-thread runtime restricted by affinity to the first C
// CPUs this process may use, as a TaskRuntime: the thread rows of the scaling entries
// (issue 16), where an M:N runtime runs on W workers and Go on GOMAXPROCS=W. Entry
// prefix: the wrapped runtime's, then "cpus:C" ("std_thread/cpus:2").
//
// Invariant: every task of a run() is created by the root or by its tasks, and threads
// inherit their creator's affinity, so the whole run stays on those C CPUs; the calling
// thread's own mask is restored when run() returns. Constructing one for more CPUs than
// are usable throws std::invalid_argument: an oversubscribed thread row would be the
// unrestricted one under another name.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "harness/cpu_affinity.h"
#include "tasks/task_runtime.h"

namespace greenbench {

template <TaskRuntime RT>
class CpuRestrictedRuntime {
  static_assert(RT::kind == TaskKind::os_thread, "M:N runtimes are sized by their workers");

 public:
  static constexpr TaskKind kind = RT::kind;

  CpuRestrictedRuntime(RT runtime, unsigned cpus) : runtime_(std::move(runtime)), cpus_(cpus) {
    if (cpus == 0 || cpus > allowed_cpus().size()) {
      throw std::invalid_argument(runtime_.prefix() + " cannot be restricted to " + std::to_string(cpus) +
                                  " CPUs: " + std::to_string(allowed_cpus().size()) + " are usable");
    }
  }

  std::string prefix() const { return runtime_.prefix() + "/cpus:" + std::to_string(cpus_); }
  unsigned workers() const { return 0; }
  unsigned cpus() const { return cpus_; }

  template <class F>
  void run(F&& root) const {
    const std::vector<int> usable = allowed_cpus();
    const ScopedPin restricted(std::vector<int>(usable.begin(), usable.begin() + cpus_));
    runtime_.run(std::forward<F>(root));
  }

  using Handle = typename RT::Handle;

  template <class F>
  Handle spawn(F&& f) const {
    return runtime_.spawn(std::forward<F>(f));
  }

  static void yield() { RT::yield(); }
  static void sleep_until(std::chrono::steady_clock::time_point t) { RT::sleep_until(t); }

  using Event = typename RT::Event;
  using WaitGroup = typename RT::WaitGroup;
  template <class T>
  using Channel = typename RT::template Channel<T>;

 private:
  RT runtime_;
  unsigned cpus_;
};

}  // namespace greenbench
