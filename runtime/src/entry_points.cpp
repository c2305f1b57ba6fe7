// entry_points.cpp: the task-facing entry points of green/detail/task.h and
// green/runtime.h (run, spawn's submit, park and wake, join and detach, this_task::*):
// thin glue from the public API onto the worker of the calling thread, or onto the
// scheduler's plain-thread gate when called from outside the runtime.
//
// Invariant: a call from a task goes to its worker and touches no shared state beyond
// it; a call from a plain thread goes through enter_foreign (scheduler.h), so it either
// finishes before the run's teardown begins or is refused.
#include <sched.h>

#include <stdexcept>
#include <string>

#include "cpu.h"
#include "fatal.h"
#include "parked_stacks.h"
#include "scheduler.h"
#include "worker.h"

namespace green::detail {
namespace {

Worker& require_worker(const char* what) {
  Worker* w = current_worker();
  if (!w) fatal("%s", what);
  return *w;
}

}  // namespace

RunReport run_root(const Config& config, std::function<void()> root) {
  Scheduler sched(config);
  return sched.run(std::move(root));
}

RunScope::RunScope() noexcept {
  if (Worker* w = current_worker()) {
    run_ = w->sched.run_id();
  } else if (Scheduler* s = enter_foreign(0)) {
    run_ = s->run_id();
    foreign_ = true;
  }
}

RunScope::~RunScope() {
  if (foreign_) leave_foreign();
}

// On a plain thread: within a RunScope (spawn), or for the root task (Scheduler::run).
void* task_alloc() {
  if (Worker* w = current_worker()) return w->take_task_block();
  return active_scheduler()->arena().take_shared();
}

void task_free(Task* t) noexcept {
  if (Worker* w = current_worker()) {
    w->give_task_block(t);
  } else if (Scheduler* s = active_scheduler()) {
    s->arena().give_shared(TaskArena::block_of(t));
  }
}

// Never during teardown: handles are inert by then, and the arena destroys every live
// block itself.
void task_destroy(Task* t) noexcept {
  t->~Task();
  task_free(t);
}

void require_worker_of_run(unsigned worker) {
  Worker* w = current_worker();
  const Scheduler& s = w ? w->sched : *active_scheduler();  // a plain thread inside a RunScope
  const unsigned workers = s.config().workers;
  if (worker >= workers) {
    throw std::invalid_argument("green::spawn_on: no worker " + std::to_string(worker) + " (the run has " +
                                std::to_string(workers) + " workers)");
  }
  if (worker >= 0xFFFF) {  // Task::pin holds 1 + the worker in 16 bits
    throw std::invalid_argument("green::spawn_on: worker " + std::to_string(worker) +
                                ": tasks can be pinned to the first 65,535 workers only");
  }
}

void submit(Task* t) {
  if (Worker* w = current_worker()) {
    t->id = w->next_id();
    ++w->spawned;
    w->make_next(t);
    return;
  }
  Scheduler* s = active_scheduler();  // a plain thread inside a RunScope
  t->id = s->take_ids(1);
  s->count_foreign_spawn();
  s->inject(t);
}

Task* current_task() noexcept {
  Worker* w = current_worker();
  return w ? w->running() : nullptr;
}

void park(SpinLock& lock) {
  Worker& w = require_worker("a green:: primitive blocked outside a task");
  Worker::park_current(w, {[](Worker&, Task* self, void* l) {
                             mark_parked(self);
                             static_cast<SpinLock*>(l)->unlock();
                           },
                           nullptr, &lock});
}

void wake(Task* t) {
  if (Worker* w = current_worker()) {
    if (claim_parked(t)) w->make_next(t);
    return;
  }
  ForeignCall call(0);
  // No live run: the task was abandoned with its run and is never resumed (nor touched:
  // its block went with the run).
  if (Scheduler* s = call.scheduler()) {
    if (claim_parked(t)) s->inject(t);
  }
}

void join_task(Task* t, std::uint64_t run) {
  if (!t) fatal("%s", "JoinHandle::join() on a handle that is not joinable (joined, detached or empty)");
  Worker* current = current_worker();
  if (!run_is_live(run) || (current && current->sched.run_id() != run)) {
    fatal("%s", "JoinHandle::join() after its run ended");
  }
  Worker& w = require_worker("JoinHandle::join() outside a task");
  if (t->join_state.load(std::memory_order_acquire) == kDone) return;
  Worker::park_current(
      w, {[](Worker& w, Task* self, void* target) {
            std::uintptr_t expected = kRunning;
            auto* joinee = static_cast<Task*>(target);
            mark_parked(self);
            if (!joinee->join_state.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(self),
                                                            std::memory_order_acq_rel)) {
              if (claim_parked(self)) w.make_runnable(self);  // it finished meanwhile
            }
          },
          nullptr, t});
  // Resumed with `t` done on every path but one: a trimmer pass that held us when `t`
  // finished (claim_parked handed the wake-up on: parked_stacks.h) makes us runnable
  // itself, possibly before `t`'s worker has stored kDone (release_finished, the next
  // thing that worker does, without blocking). The handle frees `t`'s block as soon as
  // we return (JoinHandle::join): wait for kDone, yielding between looks. (Before this
  // wait, that free raced release_finished and ran a reused block's post twice.)
  while (t->join_state.load(std::memory_order_acquire) != kDone) {
    cpu_relax();
    this_task::yield();
  }
}

namespace {
void release_handle(Task* t) noexcept {
  if (t->join_state.exchange(kDetached, std::memory_order_acq_rel) != kDone) return;  // body frees it
  if (t->error) die_with_task_exception(t->id, t->error);
  task_destroy(t);
}
}  // namespace

// A handle of an ended run is inert: its task went with the run's arena. (The teardown
// itself drops the handles that abandoned closures held: it runs on a plain thread, after
// the run stopped being live.)
void detach_task(Task* t, std::uint64_t run) noexcept {
  if (Worker* w = current_worker()) {
    if (w->sched.run_id() == run) release_handle(t);
    return;
  }
  ForeignCall call(run);
  if (call.scheduler()) release_handle(t);
}

void die_with_task_exception(TaskId id, const std::exception_ptr& error) noexcept {
  const char* what = "an exception not derived from std::exception";
  std::string text;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    text = e.what();
    what = text.c_str();
  } catch (...) {
  }
  fatal("task #%llu ended with an uncaught exception that no one joins: %s",
        static_cast<unsigned long long>(id), what);
}

void SpinLock::backoff(unsigned spins) noexcept {
  if (spins < 64) {
    cpu_relax();
  } else {
    ::sched_yield();  // the holder is probably preempted; let it run
  }
}

// this_task::yield's body. External, under a fixed assembler name, for the x86-64
// trampoline below; `used`, so that LTO keeps it.
void yield_switch() noexcept asm("green_detail_yield_switch") __attribute__((used, noinline));
void yield_switch() noexcept {
  Worker* w = current_worker();
  if (!w) return;
  Worker::yield_current(*w);
}

}  // namespace green::detail

namespace green::this_task {

#if GREEN_OWN_JUMP
// On x86-64, yield is a trampoline around yield_switch that returns to its caller by an
// indirect jump instead of `ret`. After a switch the CPU's return-address stack holds
// the calls of the task that switched away, so the first `ret` that leaves the runtime
// is mispredicted whenever two tasks yield from different places (as the switch
// workload's two tasks do); the indirect jump is predicted from recent branch history,
// which tells them apart. On one worker the returns before it are predicted too: the
// jump returns (context_jump.cpp: as_return) into yield_switch, and yield_switch into
// here, at the one call site every yielding task shares. Measured here, a switch and return from different
// call sites: ~10.3 ns with `ret`, ~5.7 ns with the jump. (With Intel CET's indirect
// branch tracking enforced, the target would need an endbr64; Linux does not enforce it
// for user space.) The stack stays aligned for the call; the CFI says where the return
// address is throughout.
//
// A regression planted on purpose, for the suite's tests of its regression gate only
// (CMake option GREEN_PLANTED_YIELD_COST=N; 0, and nothing here, in every real build):
// exactly N instructions more per yield, N nops in this trampoline. Here, in assembly the
// compiler never sees, they cannot change how it allocates the yield path's registers
// (planted inline in that path, they saved a push and a pop elsewhere: no change in count).
#define GREEN_STRINGIFY_(x) #x
#define GREEN_STRINGIFY(x) GREEN_STRINGIFY_(x)
#if GREEN_PLANTED_YIELD_COST > 0
#define GREEN_PLANTED_NOPS ".rept " GREEN_STRINGIFY(GREEN_PLANTED_YIELD_COST) "\n\tnop\n\t.endr\n\t"
#else
#define GREEN_PLANTED_NOPS ""
#endif
__attribute__((naked)) void yield() {
  asm(GREEN_PLANTED_NOPS
      "subq $8, %rsp\n\t"
      ".cfi_adjust_cfa_offset 8\n\t"
      "call green_detail_yield_switch\n\t"
      "addq $8, %rsp\n\t"
      ".cfi_adjust_cfa_offset -8\n\t"
      "popq %rcx\n\t"
      ".cfi_adjust_cfa_offset -8\n\t"
      ".cfi_register %rip, %rcx\n\t"
      "jmp *%rcx");
}
#else
#if GREEN_PLANTED_YIELD_COST > 0
#error "GREEN_PLANTED_YIELD_COST is written for x86-64 (the yield trampoline)"
#endif
void yield() { detail::yield_switch(); }
#endif

void sleep_until(std::chrono::steady_clock::time_point deadline) {
  detail::Worker& w = detail::require_worker("sleep outside a task");
  if (deadline <= detail::Clock::now()) return;
  // The timer goes in only once we are off our stack (the post-switch action): any idle
  // worker may fire it the moment it is in.
  detail::Worker::park_current(w, {[](detail::Worker& w, detail::Task* self, void* at) {
                                     detail::mark_parked(self);
                                     w.add_timer(*static_cast<const detail::Clock::time_point*>(at), self);
                                   },
                                   nullptr, &deadline});
}

TaskId id() noexcept {
  detail::Task* t = detail::current_task();
  return t ? t->id : 0;
}

int worker_index() noexcept {
  detail::Worker* w = detail::current_worker();
  return w ? static_cast<int>(w->index) : -1;
}

}  // namespace green::this_task
