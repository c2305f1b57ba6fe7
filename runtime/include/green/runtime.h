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
//   * A task's C++ exception state is its own: a task may park inside a catch block (or
//     in a destructor run by unwinding) and resume on any worker with its own
//     std::current_exception() and std::uncaught_exceptions().
//   * A JoinHandle belongs to the run that spawned its task. Once that run has ended it
//     is inert: not joinable, and destroying or detaching it touches nothing.
//   * spawn() from a plain thread when no run is live (before it, or once the root has
//     returned and run() is tearing down or has returned) is refused: the closure never
//     runs and the handle is not joinable. A spawn that races the end of the run either
//     starts (and is abandoned with the rest) or is refused; it never races the teardown.
//   * Out of memory: spawn() throws std::bad_alloc when no task block can be had; a task
//     that cannot get a stack when it first runs ends the process with
//     "green: out of memory: no stack ..." (as Go's "fatal error: out of memory").
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
  // fiber pays only for the pages it touches; the reservation costs page tables (a
  // parked task's touched page shares one 4 KiB page-table page with the 2 MiB around
  // it: 136 B a task at 64 KiB, 264 B at 128 KiB). A task that recurses deeper hits the
  // guard page and ends the process, naming this setting.
  std::size_t stack_size = 64 * 1024;
  // A guard page below every stack, so an overflow faults instead of corrupting memory.
  bool guard_pages = true;
  // Free stacks always kept committed for reuse (and as many free task blocks).
  std::size_t pool_keep_stacks = 1024;
  // Beyond pool_keep_stacks, a background trimmer hands back the memory of free stacks
  // (and of task blocks, in whole slabs of 1,024) that no task took for a whole
  // interval, one pass per interval (so a burst's memory goes back between one and two
  // intervals after its last use); spawning and finishing never do. Zero: no trimmer,
  // free stacks and blocks stay committed until run() returns.
  std::chrono::milliseconds pool_trim_interval{250};
  // The same trimmer, once per interval, gives back the stack pages of tasks parked for a
  // whole interval below their saved stack pointers' pages: a task that went deep once
  // and parked shallow keeps only what its live frames use. Between one and two
  // intervals after the park, one madvise per park episode, never on a park or wake path
  // (runtime/README.md). Needs a nonzero pool_trim_interval, and membarrier(2) (Linux
  // 4.14+; elsewhere nothing shrinks). With it on, the trimmer thread wakes once per
  // interval for the whole run.
  bool shrink_parked_stacks = true;
  // How long a task may run before this_task::maybe_yield() yields: short enough that a
  // 1 ms timer is served within about a slice of a hog's check, long enough that a yield
  // (~0.1 µs) costs the hog 0.01% of its time.
  std::chrono::nanoseconds time_slice = std::chrono::milliseconds(1);
  // Most helper threads green::blocking() may run at once (green/blocking.h); started on
  // demand, kept until run() returns; 0: blocking(f) calls f in place, on the worker. Tokio's default bound
  // is 512; ours is smaller because each helper reserves a thread stack (8 MiB of address space by default).
  std::size_t blocking_threads = 64;
};

// What a run did, for tests and benchmarks; filled in when run() returns.
struct RunReport {
  std::uint64_t tasks_spawned = 0;
  std::uint64_t tasks_abandoned = 0;  // alive when the root task returned
  std::uint64_t stacks_mapped = 0;    // stack slots ever carved from mappings
  std::uint64_t stacks_peak_in_use = 0;
  std::uint64_t stacks_in_use_at_exit = 0;  // abandoned tasks' stacks, freed by run()
  std::uint64_t stack_allocations = 0;      // stacks handed to tasks; above stacks_mapped = reuse
  std::uint64_t stacks_decommitted = 0;     // times a pooled stack's memory went back to the OS
  std::uint64_t stack_trim_passes = 0;      // passes the background trimmer made
  std::uint64_t parked_stacks_trimmed = 0;  // times a parked task's deep stack pages went back
  std::uint64_t parked_bytes_released = 0;  // resident stack bytes those released
  std::uint64_t unguarded_stacks = 0;       // stacks left without a guard page (map limit)
  const char* guard_mode = "";              // "madvise", "mprotect" or "off"
  std::uint64_t steals = 0;                 // tasks taken from another worker's queue
  std::uint64_t timers_peak = 0;            // most entries one worker's timer heap held
  std::uint64_t task_blocks_carved = 0;     // task control blocks ever carved from slabs
  // Free task blocks whose memory went back to the OS (in whole slabs of 1,024).
  std::uint64_t task_blocks_decommitted = 0;
  std::uint64_t blocking_threads_peak = 0;  // helper threads green::blocking() started
  unsigned workers = 0;
};

namespace detail {
RunReport run_root(const Config& config, std::function<void()> root);
// `run` is the id of the run the handle's task belongs to (RunScope).
void join_task(Task* task, std::uint64_t run);             // parks until the task is done
void detach_task(Task* task, std::uint64_t run) noexcept;  // drops the handle's reference
bool run_is_live(std::uint64_t run) noexcept;
// Throws std::invalid_argument unless `worker` is a worker of the live run (in a RunScope).
void require_worker_of_run(unsigned worker);

// Held across spawning: names the live run (0 when none, and the spawn is refused) and,
// on a plain thread, holds off that run's teardown until the task is submitted.
class RunScope {
 public:
  RunScope() noexcept;
  ~RunScope();
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;
  std::uint64_t run() const noexcept { return run_; }

 private:
  std::uint64_t run_ = 0;
  bool foreign_ = false;
};
}  // namespace detail

// Runs `root` as the root task and returns when it does (rethrowing what it threw).
template <class F>
RunReport run(const Config& config, F&& root) {
  return detail::run_root(config, std::function<void()>(std::forward<F>(root)));
}

// The handle of a spawned task. Destroying it without join() detaches the task. Once
// the task's run has ended the handle is inert (see the model above).
template <class R>
class JoinHandle {
 public:
  JoinHandle() = default;
  JoinHandle(detail::TaskOf<R>* task, std::uint64_t run) noexcept : task_(task), run_(run) {}
  JoinHandle(JoinHandle&& other) noexcept : task_(std::exchange(other.task_, nullptr)), run_(other.run_) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      detach();
      task_ = std::exchange(other.task_, nullptr);
      run_ = other.run_;
    }
    return *this;
  }
  JoinHandle(const JoinHandle&) = delete;
  JoinHandle& operator=(const JoinHandle&) = delete;
  ~JoinHandle() { detach(); }

  // True while the handle has a task to join: not yet joined or detached, and its run
  // has not ended.
  bool joinable() const noexcept { return task_ && detail::run_is_live(run_); }
  TaskId id() const noexcept { return joinable() ? task_->id : 0; }

  // Parks the calling task (a task of the handle's run) until the task ends; returns its
  // result or rethrows. Ends the process if the handle is not joinable.
  R join();

  // Lets the task run on unobserved. An exception it throws then ends the process.
  void detach() noexcept {
    if (!task_) return;
    detail::detach_task(std::exchange(task_, nullptr), run_);
  }

 private:
  detail::TaskOf<R>* task_ = nullptr;
  std::uint64_t run_ = 0;  // the run that spawned the task
};

template <class R>
R JoinHandle<R>::join() {
  auto* t = std::exchange(task_, nullptr);
  detail::join_task(t, run_);
  struct Release {
    detail::Task* t;
    ~Release() { detail::task_destroy(t); }  // done and joined: the handle owns it
  } release{t};
  if (t->error) std::rethrow_exception(t->error);
  if constexpr (!std::is_void_v<R>) return std::move(*t->result);
}

// Starts `f` as a new task; it runs concurrently with the caller (in parallel when there
// is more than one worker). Callable from inside a task or from any thread while the
// runtime runs; refused (a handle that is not joinable, `f` never run) from a plain
// thread when no run is live.
template <class F>
auto spawn(F&& f) -> JoinHandle<std::invoke_result_t<std::decay_t<F>&>> {
  using R = std::invoke_result_t<std::decay_t<F>&>;
  detail::RunScope scope;
  if (!scope.run()) return {};
  auto* task = detail::make_task<F, R>(std::forward<F>(f));
  detail::submit(task);
  return JoinHandle<R>(task, scope.run());
}

// Starts `f` as a new task pinned to worker `worker` (0 to Config::workers - 1; worker 0
// is the thread that called run()), as spawn otherwise. It runs on that worker only, from
// its first switch to its end: no other worker steals it, and each time it becomes
// runnable again (woken by a send, unlock or notify; its sleep, I/O or timeout over; after
// a yield or a join) it is queued on that worker, which is woken if it sleeps. A pinned
// task waits in its worker's inbox, served like the global queue: whenever the worker's
// own run queue is empty, and one task every 61 switches otherwise. Its children are not
// pinned. For placing tasks on purpose: apart (a hand-off across workers), or together.
// Throws std::invalid_argument if the live run has no such worker.
template <class F>
auto spawn_on(unsigned worker, F&& f) -> JoinHandle<std::invoke_result_t<std::decay_t<F>&>> {
  using R = std::invoke_result_t<std::decay_t<F>&>;
  detail::RunScope scope;
  if (!scope.run()) return {};
  detail::require_worker_of_run(worker);
  auto* task = detail::make_task<F, R>(std::forward<F>(f));
  task->pin = worker + 1;
  detail::submit(task);
  return JoinHandle<R>(task, scope.run());
}

// Starts `f` detached, like Go's `go f()`.
template <class F>
void go(F&& f) {
  spawn(std::forward<F>(f)).detach();
}

namespace this_task {
// Lets every other runnable task on this worker run first.
void yield();
// Yields (as yield(), after firing due timers, so a task whose sleep has ended runs
// next) only when the task has run for Config::time_slice since its first check after
// it was last switched in; otherwise returns at once. For loops that compute for long:
// tasks are not preempted, and this is how one lets sleepers and others run. Costs a
// clock read (the time-stamp counter on x86-64) when it does not yield; outside a task
// it does nothing.
void maybe_yield();
// Parks the task until the time has passed (never earlier).
void sleep_until(std::chrono::steady_clock::time_point deadline);
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  sleep_until(std::chrono::steady_clock::now() + std::chrono::ceil<std::chrono::steady_clock::duration>(d));
}
// The running task's id; 0 outside any task.
TaskId id() noexcept;
// The index of the worker running the caller; -1 outside the runtime.
int worker_index() noexcept;
}  // namespace this_task

}  // namespace green
