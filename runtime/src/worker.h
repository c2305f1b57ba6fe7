// worker.h: one worker thread of the scheduler (Go's M and P in one).
//
// A worker owns a run queue, a timer heap, a stack cache and a task-block cache, and a
// scheduling context on its thread's own stack. Fibers switch directly to the next
// runnable fiber of their worker; only when the local queue is empty do they switch to
// the scheduling context, which looks further (timers, the global queue, the netpoller,
// other workers' timers and queues) and sleeps when there is nothing at all: on its
// futex, or, when tasks wait on descriptors or timers are pending and no other worker
// does, in epoll_wait (poller.h).
//
// Tasks readied by the running task (spawned, or woken by it) run first; yields, timers,
// the netpoller and plain threads queue at the tail of the FIFO run queue. How depends
// on whether there are thieves:
// - With several workers, runnext (Go's): the task the running one last spawned or woke
//   runs at the next switch, ahead of the run queue, and the one it displaces goes to the
//   queue's tail, where thieves find it. The fairness tick (kFairnessTick) moves runnext
//   to the tail, so a chain of tasks readying each other holds the worker for at most
//   that many switches; thieves take runnext only after a grace of spinning
//   (worker.cpp), so a worker that computes cannot strand it.
// - With one worker, the run stack (run_stack.h): every readied task is pushed on it and
//   the newest runs first (work-first), so a spawn tree runs depth-first. The fairness
//   tick runs the FIFO queue's head, so a yield or a timer waits at most 61 switches per
//   task ahead of it; and every kRunStackBottomTicks-th tick moves the stack's bottom
//   (its oldest task) to the queue's tail, so a chain that keeps readying tasks on top
//   (a ping-pong pair) delays the oldest readied task by a bounded number of switches.
//
// Post-switch actions: whatever must happen to a task *after* it is off its stack (put
// it back on a queue, release the lock of the wait queue it joined, free its stack) is
// left in `post` and run by the context that lands next, on the same thread. That is
// what makes park/wake race-free without a lock held across the switch.
//
// Pinned tasks (green::spawn_on) never enter a run queue: whoever makes one runnable puts
// it in its home worker's inbox (pinned_inbox.h), which only that worker pops, like the
// global queue: when its run queue is empty, and one task at each fairness tick.
//
// Timers: pushed only by the owner, but fired by any worker that looks for work (an idle
// worker fires a busy one's due timers, as Go's idle Ps run other Ps' timers), so the
// heap is guarded by timers_lock and its earliest deadline mirrored in timers_next.
//
// Invariant: every field below is touched only by the worker's own thread, except
// runq and runnext (thieves), pinned (pushers), wake_word (wakers), idle_in_poll and,
// while the worker sleeps, spinning (under the idle lock), timers (under timers_lock),
// timers_next (read by anyone) and the counters read after the worker is joined.
#pragma once

#include <atomic>
#include <cstdint>

#include "context.h"
#include "pinned_inbox.h"
#include "run_queue.h"
#include "run_stack.h"
#include "stack_pool.h"
#include "task_blocks.h"
#include "time_slice.h"
#include "timer_heap.h"

namespace green::detail {

class Scheduler;

struct PostAction {
  void (*fn)(class Worker& w, Task* task, void* arg) = nullptr;
  Task* task = nullptr;
  void* arg = nullptr;
};

#define GREEN_ALWAYS_INLINE inline __attribute__((always_inline))

class Worker {
 public:
  Worker(Scheduler& sched, unsigned index, bool multi, const std::atomic<bool>& stopping);

  // The scheduling loop, on the worker's thread; returns once the scheduler stops.
  void main_loop();

  // From the running fiber: switch away, leaving `post` for the next context to run.
  // Returns when the fiber is resumed, possibly on another worker. Inlined into every
  // caller on purpose: after a switch the CPU's return-address predictions belong to
  // the other stack, so each extra call level costs a mispredicted return.
  static GREEN_ALWAYS_INLINE void park_current(Worker& w, PostAction post);
  // From the running fiber, for yield: if anything else is runnable (has_other_work),
  // switch to the next runnable task and queue this one behind the others; else return
  // at once. With one worker nothing but this thread takes from the run queue, so the
  // task is queued before the switch, with no post action: it cannot be resumed before
  // the switch is done, here; and the common case (a local task to run, no fairness
  // tick due, the task not pinned) is one RunQueue::rotate. With more, a thief could
  // resume it while it is still on its stack, so the queueing is the next context's post
  // action.
  static GREEN_ALWAYS_INLINE void yield_current(Worker& w);
  // Ends the running task; never returns. (Not declared [[noreturn]]: ASan would call
  // __asan_handle_no_return first, which cannot tell a fiber stack from the thread's.)
  static void finish_current();

  // Owner only: makes `t` runnable on this worker, at the tail of its queue, or, if it is
  // pinned, on its home.
  GREEN_ALWAYS_INLINE void make_runnable(Task* t) {
    if (t->pin != 0) [[unlikely]] {
      return send_home(t);
    }
    if (!runq.push(t)) return overflow(t);
    if (multi_) notify();
  }
  // Owner only: makes `t`, spawned or woken by the running task, the next to run here:
  // runnext, displacing the previous one to the tail of the queue; with one worker, the
  // top of the run stack. A pinned task goes home instead.
  GREEN_ALWAYS_INLINE void make_next(Task* t) {
    if (t->pin != 0) [[unlikely]] {
      return send_home(t);
    }
    if (!multi_) return run_stack.push(t);
    // Only the owner stores a task here and thieves only empty the slot, so an empty slot
    // takes a plain store; a full one an exchange, racing a thief for the displaced task.
    Task* displaced = runnext.load(std::memory_order_relaxed);
    if (displaced) {
      displaced = runnext.exchange(t, std::memory_order_acq_rel);
    } else {
      runnext.store(t, std::memory_order_release);
    }
    if (displaced && !runq.push(displaced)) overflow(displaced);
    notify();
  }
  // Owner only: the next local task to switch to, or nullptr (go to the scheduler).
  // Called while a parking task may still hold its wait queue's lock: takes no lock.
  GREEN_ALWAYS_INLINE Task* pick_next() {
    if (stopping_.load(std::memory_order_relaxed)) return nullptr;
    if (--fair_in == 0) return pick_fair();
    // With more than one worker the pick is a call (as the shared pop was before), which
    // keeps registers free on the one-worker path.
    if (multi_) return pick_shared();
    if (Task* t = run_stack.pop()) return t;
    return runq.pop();
  }

  TaskId next_id() { return id_next != id_end ? id_next++ : refill_ids(); }
  void* take_task_block() { return blocks.take(); }
  void give_task_block(Task* t) noexcept { blocks.give(TaskArena::block_of(t)); }
  // A sleep of `t`, which must already be off its stack: any worker may fire it at once.
  void add_timer(Clock::time_point deadline, Task* t) { push_timer(deadline, t, nullptr, 0, 0); }
  // The timeout of the running task's wait on `pd` (poller.h); `token` names the wait.
  // Safe before the switch: firing it takes pd's lock, which the task holds until then.
  void add_io_timer(Clock::time_point deadline, PollDesc* pd, int side, std::uint32_t token) {
    push_timer(deadline, current, pd, token, side);
  }
  // Fires the due timers of every worker here (maybe_yield: a woken sleeper is queued
  // ahead of the task that yields). No lock may be held.
  void fire_due_timers() {
    fire_timers(*this);
    if (multi_) fire_others_timers();
  }
  // For yield: is there anything else to run?
  GREEN_ALWAYS_INLINE bool has_other_work() { return !runq.empty() || has_other_work_slow(); }
  bool has_runnext() const noexcept { return runnext.load(std::memory_order_relaxed) != nullptr; }
  Task* running() const noexcept { return current; }
  std::size_t timers_peak() const noexcept { return timers.peak(); }
  // The earliest deadline in this worker's heap (Clock ticks since the epoch), or
  // kNoTimer; any thread may read it.
  static constexpr Clock::rep kNoTimer = Clock::duration::max().count();
  Clock::rep next_timer() const noexcept { return timers_next.load(std::memory_order_relaxed); }

  Scheduler& sched;
  const unsigned index;
  RunQueue runq;
  // The task the running one last spawned or woke, run before runq's head (Go's
  // runnext). Only the owner stores a task; a thief takes it only by CAS, after its
  // grace (kRunnextGraceRounds in worker.cpp). With one worker (no thieves) it stays
  // empty: the run stack takes its place.
  std::atomic<Task*> runnext{nullptr};
  PinnedInbox pinned;                       // this worker's pinned tasks, ready to run
  std::atomic<std::uint32_t> wake_word{0};  // futex: 1 = woken
  bool idle_in_poll = false;                // guarded by the scheduler's idle lock: asleep in epoll_wait
  // Counted in the scheduler's spinners (scheduler.h). Set by the worker, or by the waker
  // that takes it off the idle list, under the idle lock, before the worker leaves it.
  bool spinning = false;
  TimeSlice slice;  // the running task's slice, for maybe_yield (time_slice.h)

  // Counters, summed into the RunReport after the worker is joined.
  std::uint64_t spawned = 0, finished = 0, steals = 0, stack_allocations = 0;

 private:
  // Every this many switches a worker also looks at its timers and the global queue, so
  // neither starves behind a busy local queue (Go uses 61 for the same reason).
  static constexpr std::uint32_t kFairnessTick = 61;
  // With one worker, every this many fairness ticks (64 x 61 = 3,904 switches) the run
  // stack's bottom moves to the run queue's tail. Rare on purpose: each move starts a
  // subtree of a spawn tree early, out of depth-first order (skynet 1M on one worker,
  // most tasks live at once, via join / channel: 91 / 295 with 64, 56 / 56 with 1,024,
  // 7 / 7 with no moves; 187 / 267 at n = 10k before the run stack), while the bound it
  // gives (the oldest readied task runs within about 4,000 switches of a chain that keeps
  // readying others) is still one of switches, as the tick's own.
  static constexpr std::uint32_t kRunStackBottomTicks = 64;

  Task* find_work();     // blocks; nullptr once the scheduler stops
  Task* found(Task* t);  // find_work's result: a spinner stops spinning (scheduler.h)
  Task* steal(bool take_runnext);
  // Owner only: takes runnext, racing thieves (nullptr with one worker: see runnext).
  Task* take_runnext() noexcept {
    if (!multi_ || !has_runnext()) return nullptr;
    return runnext.exchange(nullptr, std::memory_order_acquire);
  }
  __attribute__((noinline)) Task* pick_shared() noexcept;  // runnext, else runq's head
  void demote_runnext();                                   // runnext, if any, to the tail of runq
  Task* pull_global();
  Task* pick_fair();
  bool has_other_work_slow();
  void poll_timers() { fire_timers(*this); }
  bool fire_timers(Worker& owner);  // owner's due timers, run here; true if any task woke
  bool fire_others_timers();
  bool timer_due() const noexcept {
    Clock::rep next = next_timer();
    return next != kNoTimer && next <= Clock::now().time_since_epoch().count();
  }
  void push_timer(Clock::time_point deadline, Task* t, PollDesc* pd, std::uint32_t token, int side);
  bool poll_network();  // without blocking; true if it made tasks runnable
  void sleep_until_work();
  void overflow(Task* t);
  void send_home(Task* t);
  void notify();
  TaskId refill_ids();
  void start(Task* t) noexcept;  // gives a task its stack on first run (or ends the process)
  // Switches from `from` to `next` (nullptr: the scheduling context); runs the post
  // action of whoever switches back. Inlined for the reason given at park_current.
  // `as_return`: see switch_context (a yield to a yield on one worker).
  static GREEN_ALWAYS_INLINE void switch_away(ContextState* from, Worker& w, Task* next,
                                              bool as_return = false);
  static void fiber_entry(fctx::transfer_t t);
  static void release_finished(Worker& w, Task* t, void*);
  static void requeue(Worker& w, Task* t, void*) { w.make_runnable(t); }
  GREEN_ALWAYS_INLINE void run_post() noexcept {
    if (!post.fn) return;
    PostAction p = post;
    post.fn = nullptr;
    p.fn(*this, p.task, p.arg);
  }

  const bool multi_;
  const std::atomic<bool>& stopping_;
  SpinLock timers_lock;
  TimerHeap timers;                               // guarded by timers_lock
  std::atomic<Clock::rep> timers_next{kNoTimer};  // written under timers_lock
  StackCache stacks;
  TaskBlockCache blocks;
  RunStack run_stack;  // one worker only: readied tasks, newest first (run_stack.h)
  ContextState sched_ctx;
  ExceptionState* thread_eh_ = nullptr;  // this worker's thread's (set in main_loop)
  Task* current = nullptr;
  PostAction post;
  std::uint32_t fair_in = kFairnessTick;  // switches until the next fairness tick (pick_fair)
  std::uint32_t fair_ticks = 0;  // one worker: fairness ticks since the run stack's bottom last moved
  bool poll_due = false;         // the fairness tick asks the scheduling context to poll I/O
  std::uint64_t rng;
  TaskId id_next = 0, id_end = 0;

  friend Task* running_task_for_signal() noexcept;
};

// The worker of the calling thread, or nullptr outside the runtime. A fiber can resume
// on another thread, so the compiler must not reuse a thread-local address computed
// before a switch (GCC treats the thread pointer as constant within a function). On
// x86-64 the read is one volatile asm through %fs, which the compiler can neither cache
// nor move across a switch (initial-exec TLS: two instructions, no call); elsewhere it is
// a call to a function that is never inlined.
#if defined(__x86_64__) && defined(__linux__)
GREEN_ALWAYS_INLINE Worker* current_worker() noexcept {
  Worker* w;
  asm volatile("movq green_detail_tls_worker@gottpoff(%%rip), %0\n\tmovq %%fs:(%0), %0"
               : "=r"(w)
               :
               : "memory");
  return w;
}
#else
Worker* current_worker() noexcept;
#endif
void set_current_worker(Worker* w) noexcept;
Task* running_task_for_signal() noexcept;

}  // namespace green::detail

namespace green::detail {

GREEN_ALWAYS_INLINE void Worker::park_current(Worker& w, PostAction p) {
  Task* self = w.current;
  p.task = self;
  w.post = p;
  switch_away(&self->ctx, w, w.pick_next());
}

GREEN_ALWAYS_INLINE void Worker::yield_current(Worker& w) {
  if (w.multi_) {
    if (!w.has_other_work()) return;
    return park_current(w, {&Worker::requeue, nullptr, nullptr});
  }
  Task* self = w.current;
  Task* next;
  // What pick_next and make_runnable would do, in one step, when neither has more to do
  // than take the head and push at the tail: no fairness tick on this switch, nothing on
  // the run stack (it runs first), not stopping, and `self` unpinned (a pinned one goes
  // to the inbox).
  if (w.fair_in > 1 && self->pin == 0 && w.run_stack.empty() &&
      !w.stopping_.load(std::memory_order_relaxed) && (next = w.runq.rotate(self))) [[likely]] {
    --w.fair_in;
  } else {
    if (!w.has_other_work()) return;
    next = w.pick_next();  // before the push: never `self`
    w.make_runnable(self);
  }
  switch_away(&self->ctx, w, next, true);
}

GREEN_ALWAYS_INLINE void Worker::switch_away(ContextState* from, Worker& w, Task* next, bool as_return) {
  ContextState* to = &w.sched_ctx;
  if (next) {
    if (!next->stack) w.start(next);
    to = &next->ctx;
  }
  w.current = next;
  ++w.slice.switches;
  // We may land on another worker's thread: use the worker the switch hands us.
  static_cast<Worker*>(switch_context(from, *to, &w, *w.thread_eh_, as_return))->run_post();
}

}  // namespace green::detail
