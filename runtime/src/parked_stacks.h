// parked_stacks.h: stacks that shrink. A task parked for a whole trim interval gives the
// touched pages below its saved stack pointer back to the OS (Go shrinks the stacks of
// goroutines during GC; we do it from the stack pool's background trimmer thread).
//
// Design (the why):
//   * The trimmer must know, from its own thread, which tasks are parked and for how long,
//     and must never release a stack a worker is running on. So each task block's header
//     holds a state word (task_blocks.h's ParkState) that outlives the Task object (the
//     arena keeps its slabs mapped for the run): free / runnable / parked / parked_old /
//     trimming / parked_trimmed.
//   * Park: each park path's post action (it runs on the next context, once the task is
//     off its stack and its saved stack pointer is stored) calls mark_parked() BEFORE it
//     publishes the task to wakers (unlocks the wait queue, pushes the timer, CASes the
//     joinee's join state). A yield never touches the state: a yielding task stays
//     runnable, and the yield is the switch path the suite benchmarks.
//   * Wake: every path that makes a parked task runnable (wake(), a timer firing, the
//     netpoller, a finished task's joiner) first calls claim_parked(), one exchange to
//     kRunnable. If the old state was kTrimming, a trimmer pass is releasing its pages: the
//     waker does not enqueue it, the pass does when it is done.
//   * A trimmer pass (ParkedStackTrimmer::pass) walks every task block: kParked becomes
//     kParkedOld; kParkedOld (parked across a whole interval since the previous pass saw
//     it) becomes kTrimming, its stack pages in [stack base, the saved stack pointer's
//     page) go back to the OS with one madvise(MADV_DONTNEED), and the state
//     becomes kParkedTrimmed, or, if a waker claimed the task meanwhile, the pass makes it
//     runnable itself (Scheduler::inject). A kParkedTrimmed task is not looked at again
//     until it has run and parked anew.
//
// Bounds and costs: a parked task's pages go back between one and two intervals after it
// parks, with at most one madvise per park episode, on the trimmer thread only: no system
// call on any park or wake path and no new atomic on the yield path; a park pays one
// release store, a wake one exchange. A pass reads the state of every task block carved
// (about a nanosecond each) and makes one mincore and at most one madvise per task parked
// across the interval. The pages come back zeroed, on demand, if the task goes deep again.
//
// Why the pages below the saved stack pointer hold nothing live: a task is switched out
// inside jump_fcontext (context.h), which pushed its callee-saved registers and return
// address at and above the saved pointer (ContextState::fctx); everything the task's
// frames own lies above that. The x86-64 SysV red zone (128 bytes below the stack pointer)
// is usable only by a leaf function and is dead across any call, and the switch is a
// call; aarch64 has no red zone. Signal handlers run on the running task's stack or the
// worker's alternate stack, never on a parked task's.
//
// No margin below the saved pointer's page is kept (the lead's first design kept one):
// a trimmed task then costs what a task that never went deep costs (the pages its live
// frames touch, one for a shallow park), not a page more, and the price is at most one
// minor fault, when the task resumes and calls below that page: once per trimmed park
// episode, which lasted an interval at least. Measured: 10,000 tasks that wrote 64 KiB
// of frames each and parked keep 4.3 KiB resident each with no margin, 8.3 KiB with one
// page, 68.3 KiB without trimming (runtime/README.md).
//
// Invariant: only the pass moves a block out of kParked or kParkedOld without running the
// task, only to kParkedOld or kTrimming; while a block is kTrimming no one enqueues its
// task and its Task object, stack and saved context stay as the worker left them; a task
// woken while kTrimming is enqueued exactly once, by the pass.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "task_blocks.h"

namespace green::detail {

class Scheduler;

inline std::atomic<std::uint32_t>& park_state(Task* t) noexcept { return TaskArena::block_of(t)->state; }

// From a park's post action, once `t` is off its stack, before anyone can wake it. The
// release store publishes the task's saved context and stack to the trimmer.
inline void mark_parked(Task* t) noexcept { park_state(t).store(kParked, std::memory_order_release); }

// Before making a parked task runnable: false if a trimmer pass holds it (kTrimming), in
// which case the caller must not enqueue it (the pass will).
inline bool claim_parked(Task* t) noexcept {
  return park_state(t).exchange(kRunnable, std::memory_order_acq_rel) != kTrimming;
}

class ParkedStackTrimmer {
 public:
  ParkedStackTrimmer(TaskArena& arena, Scheduler& sched);

  // One pass over every task block (see above); passes are serialised. From the stack
  // pool's trimmer thread (StackPool::set_parked_pass), or a test.
  void pass() noexcept;

  std::uint64_t stacks_trimmed() const noexcept { return trimmed_.load(std::memory_order_relaxed); }
  std::uint64_t bytes_released() const noexcept { return released_.load(std::memory_order_relaxed); }

 private:
  static void visit(TaskArena::Block* b, void* self) noexcept;
  void trim(Task* t) noexcept;

  TaskArena& arena_;
  Scheduler& sched_;
  const std::size_t page_;
  std::mutex pass_mu_;                      // one pass at a time
  std::vector<unsigned char> residency_;    // mincore's answer; guarded by pass_mu_
  std::atomic<std::uint64_t> trimmed_{0};   // stacks whose pages went back (madvise calls)
  std::atomic<std::uint64_t> released_{0};  // resident bytes those calls released
};

}  // namespace green::detail
