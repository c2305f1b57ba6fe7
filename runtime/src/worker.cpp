// worker.cpp: the scheduling loop, switching, parking and finishing of tasks on one
// worker (design and invariant in worker.h and scheduler.h).
#include "worker.h"

#include <time.h>

#include <new>

#include "cpu.h"
#include "fatal.h"
#include "futex.h"
#include "parked_stacks.h"
#include "poller.h"
#include "scheduler.h"
#include "stack_overflow.h"
#include "test_hooks.h"

namespace green::detail {
namespace {

// Rounds of steal attempts before an idle worker sleeps: long enough to catch work that
// arrives within a few microseconds, short enough not to burn a core.
constexpr int kSpinRounds = 32;
// Spin rounds (each 64 pauses, a few microseconds) a thief spends before it also takes a
// victim's runnext: a task readied for its worker is about to run there, on a warm cache,
// unless that worker stays busy in something else (Go's thieves sleep 3 µs first).
constexpr int kRunnextGraceRounds = 4;
// Ids are handed to workers in blocks, so that spawning touches no shared counter.
constexpr TaskId kIdBlock = 1024;

}  // namespace

// The calling thread's worker (read through current_worker(), worker.h). External, under
// a fixed assembler name, for current_worker()'s asm; `used`, so that LTO keeps it.
thread_local Worker* tls_worker asm("green_detail_tls_worker") __attribute__((used)) = nullptr;

#if !(defined(__x86_64__) && defined(__linux__))
__attribute__((noinline)) Worker* current_worker() noexcept {
  Worker* w = tls_worker;
  asm volatile("" ::: "memory");
  return w;
}
#endif
void set_current_worker(Worker* w) noexcept { tls_worker = w; }
Task* running_task_for_signal() noexcept { return tls_worker ? tls_worker->current : nullptr; }

Worker::Worker(Scheduler& s, unsigned i, bool multi, const std::atomic<bool>& stopping)
    : sched(s),
      index(i),
      runq(multi),
      multi_(multi),
      stopping_(stopping),
      stacks(s.stack_pool()),
      blocks(s.arena()),
      rng(0x9E3779B97F4A7C15ull * (i + 1)) {
  slice.length_ns = s.config().time_slice;
}

TaskId Worker::refill_ids() {
  id_next = sched.take_ids(kIdBlock);
  id_end = id_next + kIdBlock;
  return id_next++;
}

void Worker::overflow(Task* t) {
  // The local queue is full: move half of it and `t` to the global queue (Go's
  // runqputslow), where every worker can find them.
  Task* batch[RunQueue::kCapacity / 2 + 1];
  std::uint32_t n = runq.pop_batch(batch, RunQueue::kCapacity / 2);
  batch[n++] = t;
  sched.inject_batch(batch, n);
}

void Worker::notify() { sched.notify_work(); }

void Worker::send_home(Task* t) {
  if (static_cast<unsigned>(t->pin) == index + 1) return pinned.push(t);  // we are awake: no wake-up
  sched.send_home(t);
}

Task* Worker::pick_fair() {
  fair_in = kFairnessTick;
  // Due timers, and the netpoller while tasks wait on descriptors and no worker blocks
  // in epoll_wait, are served from the scheduling context: here a parking task may
  // still hold a lock that serving them takes (its PollDesc's).
  Poller& poller = sched.poller();
  if (timer_due() || (poller.has_waiters() && !poller.blocker_active())) {
    poll_due = true;
    return nullptr;
  }
  // The runnext chain ends here: a pair that wakes each other in turn would otherwise
  // run forever ahead of the queue (Go's inheritTime ends it with the time slice; our
  // bound is this tick, every kFairnessTick switches). With one worker the run stack's
  // bottom moves to the tail instead, at every kRunStackBottomTicks-th tick.
  if (multi_) {
    demote_runnext();
  } else if (++fair_ticks == kRunStackBottomTicks) {
    fair_ticks = 0;
    if (Task* t = run_stack.pop_bottom(); t && !runq.push(t)) overflow(t);
  }
  // A pinned task first: nothing but this worker can run it.
  if (Task* t = pinned.pop()) return t;
  // Just one from the global queue, as Go does: a batch would overflow a busy local
  // queue straight back into the global one.
  Task* t = nullptr;
  if (!sched.global_empty() && sched.take_global(&t, 1) == 1) return t;
  if (Task* queued = runq.pop()) return queued;  // the FIFO queue's head, ahead of the run stack
  return run_stack.pop();
}

Task* Worker::pick_shared() noexcept {
  if (Task* t = take_runnext()) return t;
  return runq.pop();
}

void Worker::demote_runnext() {
  Task* t = take_runnext();
  if (t && !runq.push(t)) overflow(t);
}

bool Worker::has_other_work_slow() {
  if (!run_stack.empty() || has_runnext() || !sched.global_empty() || !pinned.empty() || timer_due())
    return true;
  // Tasks wait on descriptors and no worker blocks in epoll_wait: poll here, or a task
  // spinning on yield() could wait forever for one whose data has arrived (the yielding
  // task holds no lock, so unlike pick_fair this may poll in place). Go's Gosched does
  // not poll; its sysmon thread does, every 10 ms at most. We have no such thread, and
  // this costs the yield fast path nothing: it runs only when the local queue is empty.
  Poller& poller = sched.poller();
  return poller.has_waiters() && !poller.blocker_active() && poll_network();
}

void Worker::push_timer(Clock::time_point deadline, Task* t, PollDesc* pd, std::uint32_t token, int side) {
  const Clock::rep at = deadline.time_since_epoch().count();
  timers_lock.lock();
  timers.push(deadline, t, pd, token, side);
  const bool first = at < timers_next.load(std::memory_order_relaxed);
  if (first) timers_next.store(at, std::memory_order_relaxed);
  timers_lock.unlock();
  // A new earliest deadline may be earlier than any idle worker will wake for.
  if (first) sched.timer_added(at);
}

bool Worker::fire_timers(Worker& owner) {
  if (owner.next_timer() == kNoTimer) return false;  // the common case: no lock, no clock
  const Clock::time_point now = Clock::now();
  if (owner.next_timer() > now.time_since_epoch().count()) return false;
  // Popped in batches under the owner's lock, resolved after it: expire() takes a
  // PollDesc's lock, which Poller::wait holds while it pushes a timer.
  constexpr std::size_t kBatch = 32;
  TimerEntry due[kBatch];
  bool woke = false;
  for (;;) {
    std::size_t n = 0;
    owner.timers_lock.lock();
    while (n < kBatch && owner.timers.pop_due(now, due[n])) ++n;
    owner.timers_next.store(
        owner.timers.empty() ? kNoTimer : owner.timers.earliest().time_since_epoch().count(),
        std::memory_order_relaxed);
    owner.timers_lock.unlock();
    for (std::size_t i = 0; i < n; ++i) {
      Task* t = due[i].pd ? sched.poller().expire(due[i].pd, due[i].side, due[i].token) : due[i].task;
      if (t && claim_parked(t)) {
        make_runnable(t);
        woke = true;
      }
    }
    if (n < kBatch) return woke;
  }
}

bool Worker::fire_others_timers() {
  bool woke = false;
  for (auto& w : sched.workers()) {
    if (w.get() != this) woke |= fire_timers(*w);
  }
  return woke;
}

bool Worker::poll_network() {
  Poller& poller = sched.poller();
  if (!poller.has_waiters()) return false;
  // Take no more than the local queue holds: an overflow would move its oldest tasks to
  // the global queue, behind every later poll, and starve them. Events left in epoll's
  // ready list keep their order for the next poll.
  std::size_t max_events = (RunQueue::kCapacity - runq.size()) / 2;
  if (max_events == 0) return false;
  static constexpr timespec kNoWait{};
  Task* woken[Poller::kMaxWoken];
  std::size_t n = poller.poll(&kNoWait, woken, false, max_events);
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (claim_parked(woken[i])) {
      make_runnable(woken[i]);
      any = true;
    }
  }
  return any;
}

Task* Worker::pull_global() {
  Task* batch[RunQueue::kCapacity / 2];
  std::uint32_t n = sched.take_global(batch, RunQueue::kCapacity / 2);
  if (n == 0) return nullptr;
  for (std::uint32_t i = 1; i < n; ++i) make_runnable(batch[i]);
  return batch[0];
}

Task* Worker::steal(bool take_runnext) {
  auto& ws = sched.workers();
  std::size_t n = ws.size();
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  std::size_t start = rng % n;
  for (std::size_t k = 0; k < n; ++k) {
    Worker& victim = *ws[(start + k) % n];
    if (&victim == this) continue;
    if (Task* t = victim.runq.steal_into(runq)) {
      ++steals;
      return t;
    }
    Task* next = take_runnext ? victim.runnext.load(std::memory_order_relaxed) : nullptr;
    if (next && victim.runnext.compare_exchange_strong(next, nullptr, std::memory_order_acquire)) {
      ++steals;
      return next;
    }
  }
  return nullptr;
}

Task* Worker::found(Task* t) {
  // The last spinner with more queued wakes another (Go's resetspinning): wakers woke
  // no one while it spun.
  if (spinning && sched.stop_spinning(*this) && !runq.empty()) sched.notify_work();
  return t;
}

Task* Worker::find_work() {
  if (poll_due) {  // the fairness tick, served here (see pick_fair)
    poll_due = false;
    poll_timers();
    poll_network();
    Task* t = nullptr;
    if (!sched.global_empty() && sched.take_global(&t, 1) == 1) return t;
  }
  // After a look at the idle protocol's barrier (sleep_until_work returned), a worker may
  // spin whatever the count: it returns with work to find or woken (a spinner already).
  bool looked = false;
  for (;;) {
    if (sched.stopping()) return nullptr;
    poll_timers();
    if (Task* t = take_runnext()) return found(t);
    if (Task* t = run_stack.pop()) return found(t);
    if (Task* t = runq.pop()) return found(t);
    if (Task* t = pull_global()) return found(t);
    if (Task* t = pinned.pop()) return found(t);
    if (poll_network()) continue;
    if (multi_) {
      if (fire_others_timers()) continue;
      if (spinning || looked || sched.may_spin()) {
        if (!spinning) sched.start_spinning(*this);
        bool elsewhere = false;  // work in the global queue or the inbox: take it above
        for (int round = 0; round < kSpinRounds; ++round) {
          if (Task* t = steal(round >= kRunnextGraceRounds)) return found(t);
          if ((elsewhere = !sched.global_empty() || !pinned.empty() || sched.stopping())) break;
          for (int i = 0; i < 64; ++i) cpu_relax();
        }
        if (elsewhere) continue;
        GREEN_TEST_HOOK(spinner_giving_up);
        sched.stop_spinning(*this);  // then idle_enter looks at every queue once more
      }
    }
    sleep_until_work();
    looked = true;
  }
}

void Worker::sleep_until_work() {
  // One idle worker at a time sleeps in epoll_wait while tasks wait on descriptors or
  // timers are pending, and wakes for the earliest timer of every worker; the others
  // sleep on their futexes, each until its own next timer (scheduler.h).
  Poller& poller = sched.poller();
  GREEN_TEST_HOOK(idle_before_enter);
  const bool blocker = sched.idle_enter(*this);
  GREEN_TEST_HOOK(idle_entered);
  const Clock::rep wake_at = blocker ? sched.earliest_timer() : next_timer();
  if (blocker) sched.blocker_wakes_at(wake_at);
  Task* woken[Poller::kMaxWoken];
  std::size_t n = 0;
  const Clock::rep now = Clock::now().time_since_epoch().count();
  if (!sched.stopping() && !sched.any_work() && pinned.empty() && wake_at > now) {
    timespec ts{};
    const timespec* timeout = nullptr;
    if (wake_at != kNoTimer) {
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::duration(wake_at - now)).count();
      ts.tv_sec = ns / 1'000'000'000;
      ts.tv_nsec = ns % 1'000'000'000;
      timeout = &ts;
    }
    if (blocker) {
      n = poller.poll(timeout, woken, true, Poller::kMaxEvents);  // the queue is empty
      GREEN_TEST_HOOK(blocker_woke);
    } else {
      futex_wait(wake_word, 0, timeout);
    }
  }
  sched.idle_leave(*this);  // a blocker hands its role on there
  // Only now, off the idle list, so that the wake-ups these cause go to other workers.
  for (std::size_t i = 0; i < n; ++i) {
    if (claim_parked(woken[i])) make_runnable(woken[i]);
  }
}

void Worker::main_loop() {
  set_current_worker(this);
  thread_eh_ = thread_exception_state();
  adopt_thread_context(sched_ctx);
  prepare_signal_stack();
  while (Task* t = find_work()) switch_away(&sched_ctx, *this, t);
  stacks.drain();
  release_signal_stack();
  set_current_worker(nullptr);
}

// Runs in the middle of a switch, where the parking task may hold its wait queue's lock
// and its post action is set: nothing may be thrown from here. With no stack to be had
// the process ends, naming the cause (Go: "fatal error: out of memory"); a task that
// never started cannot be failed on its own, and its spawner has long returned.
void Worker::start(Task* t) noexcept {
  try {
    t->stack = stacks.allocate();
  } catch (const std::bad_alloc&) {
    fatal(
        "out of memory: no stack for task #%llu (stacks of %zu bytes; RLIMIT_AS, overcommit or "
        "vm.max_map_count refused the mapping)",
        static_cast<unsigned long long>(t->id), sched.stack_pool().stack_size());
  }
  ++stack_allocations;
  make_context(t->ctx, t->stack, &Worker::fiber_entry);
}

void Worker::fiber_entry(fctx::transfer_t t) {
  auto* w = static_cast<Worker*>(static_cast<Hop*>(t.data)->carry);
  Task* self = w->current;
  land(t, &self->ctx);
  w->run_post();
  try {
    self->invoke();
  } catch (...) {
    self->error = std::current_exception();
  }
  finish_current();
}

void Worker::finish_current() {
  Worker& w = *current_worker();
  Task* self = w.current;
  ++w.finished;
  // A joiner already parked on us can be resumed directly: no one else can wake it, and
  // it is fully switched out (it published itself from its post action). Not one pinned
  // to another worker: release_finished sends that one home. If a trimmer pass holds it
  // (claim_parked fails), the pass enqueues it, maybe before release_finished has run
  // (join_task waits for kDone); either way release_finished leaves it alone.
  std::uintptr_t state = self->join_state.load(std::memory_order_acquire);
  Task* joiner = state > kDetached && !w.stopping_.load(std::memory_order_relaxed)
                     ? reinterpret_cast<Task*>(state)
                     : nullptr;
  if (joiner && joiner->pin != 0 && static_cast<unsigned>(joiner->pin) != w.index + 1) joiner = nullptr;
  const bool direct = joiner && claim_parked(joiner);
  if (joiner && !direct) GREEN_TEST_HOOK(joiner_handed_on);
  Task* next = direct ? joiner : w.pick_next();
  // Everything else happens off this stack, in the next context: see release_finished.
  w.post = {&Worker::release_finished, self, joiner};
  switch_away(nullptr, w, next);
  __builtin_unreachable();
}

// Runs on the next context once a finished task is off its stack. Only now is the task
// marked done: a joiner that sees kDone may free the block at once, so nothing may
// touch the task after the exchange except on the paths that own it.
void Worker::release_finished(Worker& w, Task* t, void* resumed_joiner) {
  retire_stack(t->stack);
  w.stacks.deallocate(t->stack);
  t->stack = {};
  retire_context(t->ctx);
  std::uintptr_t old = t->join_state.exchange(kDone, std::memory_order_acq_rel);
  if (old == kDetached) {
    if (t->error) die_with_task_exception(t->id, t->error);
    task_destroy(t);  // no handle left: the body was the last owner
  } else if (old != kRunning && reinterpret_cast<void*>(old) != resumed_joiner) {
    Task* joiner = reinterpret_cast<Task*>(old);  // parked on us
    if (claim_parked(joiner)) w.make_runnable(joiner);
  }
}

}  // namespace green::detail
