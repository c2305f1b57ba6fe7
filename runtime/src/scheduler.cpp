// scheduler.cpp: building and tearing down the scheduler for one run, the global queue,
// the idle protocol, and the gate through which plain threads enter a live run (design
// and invariant in scheduler.h; the task-facing entry points are in entry_points.cpp).
#include "scheduler.h"

#include <algorithm>
#include <thread>

#include "fatal.h"
#include "futex.h"
#include "process_barrier.h"
#include "stack_overflow.h"

namespace green::detail {
namespace {

std::atomic<Scheduler*> g_active{nullptr};
std::atomic<std::uint64_t> g_runs{0};

// Plain threads (spawn, wake, detach from outside the runtime) and the end of a run:
// g_live_run names the live run (0: none) and g_foreign_calls counts plain-thread calls
// inside one. A call registers, then checks the run is live; the teardown clears
// g_live_run, then waits until no call is inside (Dekker, sequentially consistent on both
// sides): so a call either finishes before the teardown starts or is refused.
std::atomic<std::uint64_t> g_live_run{0};
std::atomic<std::uint32_t> g_foreign_calls{0};

// Refuses further plain-thread calls into the run and waits out those inside it.
void close_to_foreign() noexcept {
  g_live_run.store(0, std::memory_order_seq_cst);
  while (g_foreign_calls.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
}

}  // namespace

// The store-load barrier of the idle protocol (scheduler.h): between a waker's publishing
// of work and its look at the idle and spinning counts, and between a sleeper's
// registering and its look at the queues. Where membarrier(2) is allowed, the sleeper's
// side is a process_barrier() and the waker's a compiler barrier (process_barrier.h):
// a wake is made on every spawn, a sleep only after spinning in vain. Elsewhere, two
// sequentially consistent fences. TSan models neither (GCC warns of fences), so under
// TSan both sides write the counter instead.
#if defined(__SANITIZE_THREAD__)
std::size_t Scheduler::look_after_publish() noexcept {
  return idle_count_.fetch_add(0, std::memory_order_acq_rel);
}
void Scheduler::look_after_register() const noexcept {}
#else
std::size_t Scheduler::look_after_publish() noexcept {
  if (light_wakers_) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  return idle_count_.load(std::memory_order_relaxed);
}
void Scheduler::look_after_register() const noexcept {
  if (light_wakers_) {
    process_barrier();
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}
#endif

namespace {

void wake_idle(Worker* w) {
  w->wake_word.store(1, std::memory_order_release);
  futex_wake_one(w->wake_word);
}

}  // namespace

Scheduler* active_scheduler() noexcept { return g_active.load(std::memory_order_acquire); }

void leave_foreign() noexcept { g_foreign_calls.fetch_sub(1, std::memory_order_release); }

Scheduler* enter_foreign(std::uint64_t run) noexcept {
  g_foreign_calls.fetch_add(1, std::memory_order_seq_cst);
  std::uint64_t live = g_live_run.load(std::memory_order_seq_cst);
  if (live != 0 && (run == 0 || run == live)) return g_active.load(std::memory_order_acquire);
  leave_foreign();
  return nullptr;
}

bool run_is_live(std::uint64_t run) noexcept {
  return run != 0 && g_live_run.load(std::memory_order_acquire) == run;
}

Scheduler::Scheduler(const Config& config)
    : config_(config),
      pool_(config.stack_size, config.guard_pages, config.pool_keep_stacks, config.pool_trim_interval),
      arena_(config.pool_keep_stacks, config.pool_trim_interval > std::chrono::milliseconds::zero()
                                          ? std::function<void()>([this] { pool_.arm_trimmer(); })
                                          : nullptr),
      run_id_(g_runs.fetch_add(1, std::memory_order_relaxed) + 1),
      light_wakers_(process_barrier_available()) {
  pool_.set_trim_companion([this] { return arena_.trim_unused(); });
  if (config_.workers == 0) config_.workers = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(config_.workers);
  for (unsigned i = 0; i < config_.workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(*this, i, config_.workers > 1, stopping_));
  }
}

Scheduler::~Scheduler() { pool_.stop_trimmer(); }  // its passes use arena_, which goes first

void Scheduler::inject(Task* t) {
  if (t->pin != 0) return send_home(t);
  {
    std::lock_guard lk(global_mu_);
    global_.push(t);
    global_size_.fetch_add(1, std::memory_order_release);
  }
  notify_work();
}

void Scheduler::inject_batch(Task** tasks, std::uint32_t n) {
  {
    std::lock_guard lk(global_mu_);
    for (std::uint32_t i = 0; i < n; ++i) global_.push(tasks[i]);
    global_size_.fetch_add(n, std::memory_order_release);
  }
  notify_work();
}

std::uint32_t Scheduler::take_global(Task** out, std::uint32_t max) {
  if (global_empty()) return 0;
  std::lock_guard lk(global_mu_);
  std::uint32_t n = 0;
  while (n < max) {
    Task* t = global_.pop();
    if (!t) break;
    out[n++] = t;
  }
  global_size_.fetch_sub(n, std::memory_order_relaxed);
  return n;
}

void Scheduler::notify_work() {
  // Dekker: publish, then look (look_after_publish). A spinner will find the work.
  if (look_after_publish() == 0 || spinning_.load(std::memory_order_relaxed) != 0) return;
  Worker* w = nullptr;
  bool in_poll = false;
  {
    std::lock_guard lk(idle_mu_);
    if (idle_.empty() || spinning_.load(std::memory_order_relaxed) != 0) return;
    // Prefer a futex sleeper: the one worker in epoll_wait had better stay there.
    auto it = idle_.end() - 1;
    if ((*it)->idle_in_poll && idle_.size() > 1) --it;
    w = *it;
    in_poll = w->idle_in_poll;
    idle_.erase(it);
    idle_count_.fetch_sub(1, std::memory_order_relaxed);
    start_spinning(*w);  // it reads this once off the list (idle_leave takes the lock)
  }
  in_poll ? poller_.interrupt() : wake_idle(w);
}

bool Scheduler::may_spin() const noexcept {
  const std::size_t awake = workers_.size() - idle_count_.load(std::memory_order_relaxed);
  return 2 * std::size_t{spinning_.load(std::memory_order_relaxed)} <= awake;
}

void Scheduler::start_spinning(Worker& w) noexcept {
  w.spinning = true;
  spinning_.fetch_add(1, std::memory_order_relaxed);
}

bool Scheduler::stop_spinning(Worker& w) noexcept {
  // Before the sleeper's barrier (idle_enter), or before the wake it may make: relaxed.
  w.spinning = false;
  return spinning_.fetch_sub(1, std::memory_order_relaxed) == 1;
}

void Scheduler::send_home(Task* t) {
  Worker& home = *workers_[t->pin - 1];
  home.pinned.push(t);
  notify_worker(home);
}

void Scheduler::notify_worker(Worker& w) {
  // Dekker, as in notify_work: the task is published (the inbox's CAS), then we look.
  if (look_after_publish() == 0) return;
  bool in_poll = false;
  {
    std::lock_guard lk(idle_mu_);
    auto it = std::find(idle_.begin(), idle_.end(), &w);
    if (it == idle_.end()) return;  // awake: it looks at its inbox before it sleeps
    in_poll = w.idle_in_poll;
    idle_.erase(it);
    idle_count_.fetch_sub(1, std::memory_order_relaxed);
  }
  in_poll ? poller_.interrupt() : wake_idle(&w);
}

bool Scheduler::idle_enter(Worker& w) {
  w.wake_word.store(0, std::memory_order_relaxed);
  std::lock_guard lk(idle_mu_);
  idle_.push_back(&w);
  idle_count_.fetch_add(1, std::memory_order_acq_rel);  // Dekker: register, then look
  look_after_register();
  // Only now, registered: a task that parked on I/O, or a timer pushed, before this
  // point is seen here; one after it finds `w` idle and wakes it.
  w.idle_in_poll =
      (poller_.has_waiters() || earliest_timer() != Worker::kNoTimer) && poller_.try_become_blocker();
  if (w.idle_in_poll) blocker_wakes_at_.store(0, std::memory_order_relaxed);
  return w.idle_in_poll;
}

Clock::rep Scheduler::earliest_timer() const noexcept {
  Clock::rep at = Worker::kNoTimer;
  for (const auto& w : workers_) at = std::min(at, w->next_timer());
  return at;
}

void Scheduler::timer_added(Clock::rep at) {
  // Dekker with idle_enter, as in notify_work: the deadline is published, then we look.
  if (look_after_publish() == 0) return;  // all busy: ticks
  Worker* sleeper = nullptr;
  {
    std::lock_guard lk(idle_mu_);
    for (Worker* w : idle_) {
      if (!w->idle_in_poll) continue;
      // The blocker: still computing its timeout (0), or sleeping past `at`. An interrupt
      // sent as it wakes anyway only makes the next blocker look once more.
      Clock::rep wakes = blocker_wakes_at_.load(std::memory_order_relaxed);
      if (wakes == 0 || wakes > at) poller_.interrupt();
      return;
    }
    if (idle_.empty()) return;
    // No blocker: wake a futex sleeper; it will find the timer and become the blocker.
    sleeper = idle_.back();
    idle_.pop_back();
    idle_count_.fetch_sub(1, std::memory_order_relaxed);
  }
  wake_idle(sleeper);
}

void Scheduler::idle_leave(Worker& w) {
  Worker* heir = nullptr;
  {
    std::lock_guard lk(idle_mu_);
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (*it == &w) {
        idle_.erase(it);
        idle_count_.fetch_sub(1, std::memory_order_relaxed);
        break;
      }
    }
    if (w.idle_in_poll) {
      // The blocker leaves (woken by an event, its timeout or an interrupt; a notify_work
      // may already have taken it off the list). Under the lock, so each worker entering
      // idle either sees the role free or is seen here: if descriptors or timers still
      // need watching, the role passes to a futex sleeper, or the work this worker goes
      // to (which may compute for long) would leave them unwatched until it switches.
      w.idle_in_poll = false;
      poller_.stop_blocking();
      if (!idle_.empty() && (poller_.has_waiters() || earliest_timer() != Worker::kNoTimer)) {
        heir = idle_.back();
        idle_.pop_back();
        idle_count_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
  }
  if (heir) wake_idle(heir);  // it finds the role free and takes it (idle_enter)
}

bool Scheduler::any_work() const noexcept {
  if (!global_empty()) return true;
  for (const auto& w : workers_) {
    if (!w->runq.empty() || w->has_runnext()) return true;
  }
  return false;
}

void Scheduler::stop() {
  stopping_.store(true, std::memory_order_seq_cst);
  std::vector<Worker*> sleepers;
  bool poller_asleep = false;
  {
    std::lock_guard lk(idle_mu_);
    sleepers.swap(idle_);
    idle_count_.store(0, std::memory_order_relaxed);
    for (Worker* w : sleepers) poller_asleep |= w->idle_in_poll;
  }
  for (Worker* w : sleepers) wake_idle(w);
  if (poller_asleep) poller_.interrupt();
}

RunReport Scheduler::run(std::function<void()> root) {
  Scheduler* expected = nullptr;
  if (!g_active.compare_exchange_strong(expected, this)) fatal("run() is already running in this process");
  g_live_run.store(run_id_, std::memory_order_seq_cst);
  install_overflow_handler();

  std::exception_ptr root_error;
  Task* root_task = make_task([&] {
    try {
      root();
    } catch (...) {
      root_error = std::current_exception();
    }
    stop();
  });
  root_task->id = take_ids(1);
  root_task->join_state.store(kDetached, std::memory_order_relaxed);
  inject(root_task);
  if (config_.shrink_parked_stacks) pool_.set_parked_pass([this] { parked_stacks_.pass(); });

  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers_.size(); ++i)
    threads.emplace_back([this, i] { workers_[i]->main_loop(); });
  workers_[0]->main_loop();
  for (auto& t : threads) t.join();
  pool_.set_parked_pass(nullptr);  // waits out a pass in progress: none touches a task after
  // Before any stack is freed: a call in flight writes its result there (blocking_pool.h).
  blocking_pool_.shut_down();
  close_to_foreign();  // from here on, handles are inert and plain threads are refused

  RunReport r;
  r.workers = static_cast<unsigned>(workers_.size());
  std::uint64_t finished = 0;
  for (auto& w : workers_) {
    r.tasks_spawned += w->spawned;
    finished += w->finished;
    r.steals += w->steals;
    r.stack_allocations += w->stack_allocations;
    r.timers_peak = std::max<std::uint64_t>(r.timers_peak, w->timers_peak());
  }
  r.tasks_spawned += 1 + foreign_spawned_.load(std::memory_order_relaxed);  // root, plain threads'
  r.tasks_abandoned = r.tasks_spawned - finished;

  tearing_down_.store(true, std::memory_order_release);
  pool_.stop_trimmer();   // no pass from here on: the arena and the pool are settled
  arena_.destroy_live();  // closures of abandoned tasks (and handles they held)
  r.task_blocks_carved = arena_.carved();
  r.task_blocks_decommitted = arena_.decommitted();
  r.blocking_threads_peak = blocking_pool_.threads_peak();
  StackStats ss = pool_.stats();
  r.stacks_mapped = ss.mapped;
  r.stacks_peak_in_use = ss.peak_in_use;
  r.stacks_in_use_at_exit = ss.in_use;
  r.stacks_decommitted = ss.decommitted;
  r.stack_trim_passes = ss.trim_passes;
  r.parked_stacks_trimmed = parked_stacks_.stacks_trimmed();
  r.parked_bytes_released = parked_stacks_.bytes_released();
  r.unguarded_stacks = ss.unguarded;
  r.guard_mode = ss.guard_mode;
  g_active.store(nullptr, std::memory_order_release);
  if (root_error) std::rethrow_exception(root_error);
  return r;
}

}  // namespace green::detail
