// green/runtime.h: running a root task on an M:N scheduler, spawning and joining tasks,
// and what the current task can do (yield, sleep, its id).
//
// The model (see runtime/README.md for the whole table):
//   * run() starts `workers` OS threads (the calling thread is worker 0) and runs the
//     root task to completion. Tasks are cooperative: they switch only when they yield,
//     sleep, join, or block on a green:: primitive.
//   * When the root task returns, run() ends the scheduler, like Go's main: tasks still
//     alive are never resumed again. Their closures (and captures) are destroyed, but
//     objects in their stack frames are not (as Go skips deferred calls); every stack and
//     task block is freed and every worker joined before run() returns. Join what owns
//     resources before the root returns.
//   * An exception escaping a task is kept for join(), which rethrows it. Where no one
//     can join (a detached task, or a handle dropped unjoined), the process ends with a
//     message naming the task.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "green/detail/task.h"

namespace green {

struct Config {
  // Worker threads; 0 means one per core. 1 is concurrency without parallelism.
  unsigned workers = 0;
  // Usable bytes per fiber stack, rounded up to pages. Memory is committed lazily: a
  // fiber pays only for the pages it touches.
  std::size_t stack_size = 128 * 1024;
  // A guard page below every stack, so an overflow faults instead of corrupting memory.
  bool guard_pages = true;
  // Free stacks kept committed for reuse; beyond this the pool hands memory back.
  std::size_t pool_keep_stacks = 1024;
};

// What a run did, for tests and benchmarks; filled in when run() returns.
struct RunReport {
  std::uint64_t tasks_spawned = 0;
  std::uint64_t tasks_abandoned = 0;      // alive when the root task returned
  std::uint64_t stacks_mapped = 0;        // stack slots ever carved from mappings
  std::uint64_t stacks_peak_in_use = 0;
  std::uint64_t stacks_in_use_at_exit = 0;  // abandoned tasks' stacks, freed by run()
  std::uint64_t stack_allocations = 0;    // stacks handed to tasks; above stacks_mapped = reuse
  std::uint64_t stacks_decommitted = 0;   // times a pooled stack's memory went back to the OS
  std::uint64_t unguarded_stacks = 0;     // stacks left without a guard page (map limit)
  const char* guard_mode = "";            // "madvise", "mprotect" or "off"
  std::uint64_t steals = 0;               // tasks taken from another worker's queue
  std::uint64_t timers_peak = 0;          // most entries one worker's timer heap held
  unsigned workers = 0;
};

namespace detail {
RunReport run_root(const Config& config, std::function<void()> root);
void join_task(Task* task);    // parks until the task is done
void detach_task(Task* task) noexcept;  // drops the handle's reference
}

// Runs `root` as the root task and returns when it does (rethrowing what it threw).
template <class F>
RunReport run(const Config& config, F&& root) {
  return detail::run_root(config, std::function<void()>(std::forward<F>(root)));
}

// The handle of a spawned task. Destroying it without join() detaches the task.
template <class R>
class JoinHandle {
 public:
  JoinHandle() = default;
  explicit JoinHandle(detail::TaskOf<R>* task) noexcept : task_(task) {}
  JoinHandle(JoinHandle&& other) noexcept : task_(std::exchange(other.task_, nullptr)) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      detach();
      task_ = std::exchange(other.task_, nullptr);
    }
    return *this;
  }
  JoinHandle(const JoinHandle&) = delete;
  JoinHandle& operator=(const JoinHandle&) = delete;
  ~JoinHandle() { detach(); }

  bool joinable() const noexcept { return task_ != nullptr; }
  TaskId id() const noexcept { return task_ ? task_->id : 0; }

  // Parks the calling task until the task ends; returns its result or rethrows.
  R join();

  // Lets the task run on unobserved. An exception it throws then ends the process.
  void detach() noexcept {
    if (!task_) return;
    detail::detach_task(std::exchange(task_, nullptr));
  }

 private:
  detail::TaskOf<R>* task_ = nullptr;
};


template <class R>
R JoinHandle<R>::join() {
  auto* t = std::exchange(task_, nullptr);
  detail::join_task(t);
  struct Release {
    detail::Task* t;
    ~Release() { detail::task_destroy(t); }  // done and joined: the handle owns it
  } release{t};
  if (t->error) std::rethrow_exception(t->error);
  if constexpr (!std::is_void_v<R>) return std::move(*t->result);
}

// Starts `f` as a new task; it runs concurrently with the caller (in parallel when there
// is more than one worker). Callable from inside a task or from any thread while the
// runtime runs.
template <class F>
auto spawn(F&& f) -> JoinHandle<std::invoke_result_t<std::decay_t<F>&>> {
  using R = std::invoke_result_t<std::decay_t<F>&>;
  auto* task = detail::make_task<F, R>(std::forward<F>(f));
  detail::submit(task);
  return JoinHandle<R>(task);
}

// Starts `f` detached, like Go's `go f()`.
template <class F>
void go(F&& f) {
  spawn(std::forward<F>(f)).detach();
}

namespace this_task {
// Lets every other runnable task on this worker run first.
void yield();
// Parks the task until the time has passed (never earlier).
void sleep_until(std::chrono::steady_clock::time_point deadline);
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  sleep_until(std::chrono::steady_clock::now() +
              std::chrono::ceil<std::chrono::steady_clock::duration>(d));
}
// The running task's id; 0 outside any task.
TaskId id() noexcept;
// The index of the worker running the caller; -1 outside the runtime.
int worker_index() noexcept;
}  // namespace this_task

}  // namespace green
