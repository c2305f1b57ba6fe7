// scheduler.h: the M:N scheduler that run() builds for one root task.
//
// The model, after Go's runtime/proc.go:
//   * N workers (OS threads; the thread that called run() is worker 0), each with a
//     local run queue. A task spawned or woken on a worker goes to that worker's queue;
//     from outside the runtime it goes to the global queue.
//   * Work stealing: a worker whose queue is empty looks at its timers, then the global
//     queue, then steals half of a random other worker's queue, spinning a little before
//     it gives up.
//   * Idle workers sleep on a futex and cost no CPU (one of them in epoll_wait instead,
//     the "blocker", while tasks wait on descriptors or any timer is pending: poller.h).
//     Whoever makes work runnable while some worker sleeps and none spins wakes one.
//     Sleeper and waker follow Dekker's pattern: the sleeper stops spinning, registers as
//     idle, then re-checks every queue; the waker publishes the task then checks for
//     idle and spinning workers; a full barrier on each side between the two means one
//     always sees the other, so no wake-up is lost. The barrier is asymmetric where the
//     kernel allows (process_barrier.h): the sleeper pays a membarrier(2), every wake
//     only a compiler barrier (scheduler.cpp: look_after_publish).
//   * Spinning, after Go's wakep/resetspinning (runtime/proc.go): a worker out of work
//     spins (steals, pausing between rounds) only while spinners number at most half
//     the workers not asleep (Go: less than half the busy Ps), and a wake-up makes the
//     woken worker a spinner. At 2 workers both may spin: with Go's bound a pinned
//     ping-pong across the two slept and woke on a third of its hand-offs (9.8 µs a
//     hand-off against 1.6 µs, an unpinned one 113 ns against 58 ns). A waker
//     wakes no one while a worker spins: that spinner finds the work or, giving up,
//     re-checks every queue (the handshake above). A spinner that finds work stops
//     spinning and, if it was the last and has more queued, wakes another. So one task
//     spawned or woken at a time wakes at most one sleeper, and workers that would only
//     contend for one busy worker's queue sleep instead.
//     The sleeper decides whether it is the blocker only after registering, so a task
//     that parks on I/O (or a timer pushed) just before is seen by one side or the other.
//   * Pinned tasks (spawn_on): made runnable, a pinned task goes to its home worker's
//     inbox (pinned_inbox.h), never to a run queue or the global queue, and that worker
//     is woken if it sleeps (notify_worker: the same handshake, aimed at one worker; the
//     sleeper re-checks its inbox after registering). No one else runs or steals it.
//   * Timers: each worker's heap, fired by whichever worker looks first (worker.h). The
//     blocker sleeps until the earliest timer of any worker; a worker that pushes a new
//     earliest timer wakes the blocker if it sleeps past it, or a futex sleeper to become
//     the blocker if there is none (Go's wakeNetPoller). So a timer fires on time while
//     any worker is idle, even if its own worker computes. Go also has sysmon, a thread
//     that polls the network and timers when no one has for 10 ms; we do not need it:
//     every path that leaves a descriptor or timer unwatched (a task parking, a timer
//     pushed, the blocker waking with work) wakes an idle worker, which becomes the
//     blocker, and only when every worker computes does nobody watch, as in Go without
//     preemption.
//   * One scheduler runs at a time per process (run() is not reentrant).
//
//   * Plain threads (spawn, wake, detach from outside the runtime) enter a run only while
//     it is live, and the teardown waits out those inside before it frees anything
//     (enter_foreign below; scheduler.cpp: close_to_foreign).
//
// Invariant: after stop(), no worker resumes a task; run_root() frees every stack and
// task block and joins every worker before it returns, and no plain thread is inside the
// run by then.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "blocking_pool.h"
#include "fatal.h"
#include "green/runtime.h"
#include "parked_stacks.h"
#include "poller.h"
#include "stack_pool.h"
#include "task_blocks.h"
#include "worker.h"

namespace green::detail {

class Scheduler {
 public:
  explicit Scheduler(const Config& config);
  ~Scheduler();

  RunReport run(std::function<void()> root);

  // Makes `t` runnable from any thread (the global queue, or its home's inbox if it is
  // pinned) and wakes a worker.
  void inject(Task* t);
  // Puts pinned `t` in its home worker's inbox and wakes that worker if it sleeps.
  void send_home(Task* t);
  // Moves tasks from a full local queue to the global one.
  void inject_batch(Task** tasks, std::uint32_t n);
  // Takes up to `max` tasks from the global queue; returns how many.
  std::uint32_t take_global(Task** out, std::uint32_t max);
  bool global_empty() const noexcept { return global_size_.load(std::memory_order_acquire) == 0; }

  // Called after making work runnable: wakes an idle worker if there is one and no
  // worker spins.
  void notify_work();
  // The same, for work only `w` can run (its inbox): wakes `w` if it is idle.
  void notify_worker(Worker& w);
  void stop();
  bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

  // The idle protocol (see above). idle_enter says whether `w` is to be the blocker.
  bool idle_enter(Worker& w);
  void idle_leave(Worker& w);
  // Spinning (see above). may_spin: whether a worker out of work may start to spin.
  bool may_spin() const noexcept;
  void start_spinning(Worker& w) noexcept;
  // `w` stops spinning; true if it was the last spinner.
  bool stop_spinning(Worker& w) noexcept;
  bool any_work() const noexcept;
  // The earliest timer of any worker (Worker::kNoTimer: none).
  Clock::rep earliest_timer() const noexcept;
  // The blocker, after idle_enter: the time it will wake at unless woken (see above).
  void blocker_wakes_at(Clock::rep at) noexcept { blocker_wakes_at_.store(at, std::memory_order_relaxed); }
  // A worker's timer heap has a new earliest deadline `at`: wake whoever should watch it.
  void timer_added(Clock::rep at);

  TaskId take_ids(TaskId count) { return next_id_.fetch_add(count, std::memory_order_relaxed); }

  std::vector<std::unique_ptr<Worker>>& workers() noexcept { return workers_; }
  StackPool& stack_pool() noexcept { return pool_; }
  TaskArena& arena() noexcept { return arena_; }
  ParkedStackTrimmer& parked_stacks() noexcept { return parked_stacks_; }
  Poller& poller() noexcept { return poller_; }
  BlockingPool& blocking_pool() noexcept { return blocking_pool_; }
  // Distinguishes this run from every other in the process (descriptors belong to one).
  std::uint64_t run_id() const noexcept { return run_id_; }
  const Config& config() const noexcept { return config_; }
  bool tearing_down() const noexcept { return tearing_down_.load(std::memory_order_acquire); }
  void count_foreign_spawn() noexcept { foreign_spawned_.fetch_add(1, std::memory_order_relaxed); }

 private:
  Config config_;
  StackPool pool_;
  TaskArena arena_;
  ParkedStackTrimmer parked_stacks_{arena_, *this};
  std::vector<std::unique_ptr<Worker>> workers_;
  Poller poller_{*this};
  BlockingPool blocking_pool_{config_.blocking_threads};
  const std::uint64_t run_id_;

  alignas(64) mutable std::mutex global_mu_;
  IntrusiveFifo<Task> global_;  // guarded by global_mu_
  std::atomic<std::size_t> global_size_{0};

  // Dekker, the waker's side: a store then a load of idle_count_ (and spinning_).
  std::size_t look_after_publish() noexcept;
  // Dekker, the sleeper's side: between its registering and its look at the queues.
  void look_after_register() const noexcept;

  // True where process_barrier() serves the sleeper's side of the idle handshake, so that
  // wakers need no fence (process_barrier.h).
  const bool light_wakers_;
  std::mutex idle_mu_;
  std::vector<Worker*> idle_;  // guarded by idle_mu_
  // Read on every wake: on their own cache line, apart from the global queue's counter.
  alignas(64) std::atomic<std::size_t> idle_count_{0};
  std::atomic<unsigned> spinning_{0};  // workers spinning (Worker::spinning)
  // When the blocker will wake; 0 (reset under idle_mu_ as it becomes the blocker) until
  // it has computed that.
  std::atomic<Clock::rep> blocker_wakes_at_{0};

  alignas(64) std::atomic<bool> stopping_{false};  // read on every switch: apart from spinning_
  std::atomic<TaskId> next_id_{1};
  std::atomic<bool> tearing_down_{false};          // set once every worker is joined
  std::atomic<std::uint64_t> foreign_spawned_{0};  // tasks spawned from plain threads
};

// The scheduler now running, or nullptr.
Scheduler* active_scheduler() noexcept;

// The gate for plain threads (see "Plain threads" above). enter_foreign enters run `run`
// (0: whichever is live) and returns its scheduler, or nullptr (and enters nothing) when
// that run is not live; each successful enter is paired with one leave_foreign.
Scheduler* enter_foreign(std::uint64_t run) noexcept;
void leave_foreign() noexcept;

// One plain-thread call into a live run, for the scope of the object.
class ForeignCall {
 public:
  explicit ForeignCall(std::uint64_t run) noexcept : sched_(enter_foreign(run)) {}
  ~ForeignCall() {
    if (sched_) leave_foreign();
  }
  ForeignCall(const ForeignCall&) = delete;
  ForeignCall& operator=(const ForeignCall&) = delete;
  Scheduler* scheduler() const noexcept { return sched_; }

 private:
  Scheduler* sched_;
};

}  // namespace green::detail
