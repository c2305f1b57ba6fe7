// task_runtime.h: the one task interface every runtime under test adapts to, so that each
// workload in benchmarks/ is written once, as a template over TaskRuntime, and measured on
// all of them. Only the adapters (fiber_runtime.h beside this file for ours, one file each
// in baselines/ for the peers) know a runtime's own API.
//
// An adapter is a small copyable value holding the runtime's configuration:
//
//   rt.prefix()          the runtime part of an entry name (docs/results-format.md, Names):
//                        the runtime id, then its parameters, e.g. "fiber/workers:1",
//                        "std_thread", "pthread/stack:64KiB",
//                        "boost_fiber/sched:round_robin/workers:1/alloc:pooled".
//                        The Go and Python peers are separate programs that write the same
//                        grammar ("go/procs:2", "python_thread/workers:2"), so a workload's
//                        rows line up by name whichever program measured them.
//   RT::kind             TaskKind::os_thread (the kernel schedules every task) or
//                        TaskKind::user_space (tasks multiplexed on worker threads).
//   rt.workers()         user_space: its worker threads; os_thread: 0 (the kernel decides).
//   rt.run(root)         runs root() inside the runtime and returns when it has returned.
//                        Everything below is called from root or from tasks it spawned.
//                        It returns void, or a report on the run that the adapter's
//                        static run_counters(report) turns into {name, value} counters
//                        (ours: green::RunReport; timing_support.h's run_recording).
//   rt.spawn(f)          starts f (a void() callable) as a new task and returns its Handle;
//                        throws std::system_error (with the errno) or std::bad_alloc when
//                        the runtime cannot create one.
//   h.join()             blocks the calling task (never its worker thread, for user_space
//                        runtimes) until the task has finished and its stack is released.
//   RT::yield()          lets another runnable task run.
//   RT::sleep_until(t)   blocks the calling task (never its worker thread, for user_space
//                        runtimes) until steady_clock reaches t.
//   RT::Event            the park/wake hand-off: a binary semaphore with one waiter;
//                        signal() makes the next (or the pending) wait() return.
//   RT::WaitGroup        Go's sync.WaitGroup: add(n), done(), wait() blocks until zero.
//                        With a count of 1 it is also the gate many tasks park on.
//   RT::Channel<T>       Go's unbuffered chan T: send(v) blocks until a receiver has taken
//                        v, recv() blocks until a value arrives and returns it. Any number
//                        of tasks may send; one receives at a time.
//
// Optional, PlacingRuntime below (a workload tests for it with `if constexpr`):
//   rt.spawn_on(w, f)    as spawn, but f runs on worker w (0 to workers() - 1) for its whole
//                        life: never stolen, resumed on w after every park. Offered only by
//                        a runtime that keeps that promise: ours (green::spawn_on). Not
//                        Boost.Fiber (work_stealing migrates fibers; round_robin, which
//                        does not, runs on one thread here) and not Go (goroutines cannot
//                        be placed).
//
// Invariant every adapter keeps: a blocked task costs no CPU (it is parked in the kernel or
// in its runtime's wait queue, never in a sleep or spin loop of ours), and run() returns
// only after every task it started has been joined (joining is the workloads' job; an
// adapter that can check it, does).
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <string>

namespace greenbench {

enum class TaskKind {
  os_thread,   // one kernel thread per task
  user_space,  // M:N: tasks switched in user space on worker threads
};

// clang-format 14 flattens requires-expressions:
// clang-format off
template <class RT>
concept TaskRuntime =
    std::copy_constructible<RT> &&
    std::default_initializable<typename RT::Handle> && std::movable<typename RT::Handle> &&
    std::default_initializable<typename RT::Event> &&
    std::default_initializable<typename RT::WaitGroup> &&
    std::default_initializable<typename RT::template Channel<std::int64_t>> &&
    requires(const RT& rt, typename RT::Handle& handle, typename RT::Event& event,
             typename RT::WaitGroup& group, typename RT::template Channel<std::int64_t>& channel,
             void (*task)()) {
      { RT::kind } -> std::convertible_to<TaskKind>;
      { rt.prefix() } -> std::convertible_to<std::string>;
      { rt.workers() } -> std::convertible_to<unsigned>;
      rt.run(task);
      { rt.spawn(task) } -> std::same_as<typename RT::Handle>;
      handle.join();
      RT::yield();
      RT::sleep_until(std::chrono::steady_clock::time_point{});
      event.signal();
      event.wait();
      group.add(std::int64_t{1});
      group.done();
      group.wait();
      channel.send(std::int64_t{1});
      { channel.recv() } -> std::same_as<std::int64_t>;
    };

template <class RT>
concept PlacingRuntime =
    TaskRuntime<RT> && RT::kind == TaskKind::user_space &&
    requires(const RT& rt, void (*task)()) {
      { rt.spawn_on(0u, task) } -> std::same_as<typename RT::Handle>;
    };
// clang-format on

}  // namespace greenbench
