// parked_stacks.h: stacks that shrink. A task parked for a whole trim interval gives the
// touched pages below its saved stack pointer back to the OS (Go shrinks the stacks of
// goroutines during GC; we do it from the stack pool's background trimmer thread).
//
// Design (the why):
//   * The trimmer must know, from its own thread, which tasks are parked and for how long,
//     and must never release a stack a worker is running on. So each task block's header
//     holds a state word (task_blocks.h's ParkState: free / runnable / parked /
//     parked_old / parked_trimmed) and a hold word (ParkHold), both outliving the Task
//     object (the arena keeps its slabs mapped for the run).
//   * Park: each park path's post action (it runs on the next context, once the task is
//     off its stack and its saved stack pointer is stored) calls mark_parked() BEFORE it
//     publishes the task to wakers (unlocks the wait queue, pushes the timer, CASes the
//     joinee's join state): one release store, a plain store on x86-64. A yield never
//     touches the state: a yielding task stays runnable, and the yield is the switch path
//     the suite benchmarks.
//   * Wake: every path that makes a parked task runnable (wake(), a timer firing, the
//     netpoller, a finished task's joiner) first calls claim_parked(): it stores kRunnable
//     and then loads the hold word, with no atomic read-modify-write and no fence (a
//     locked exchange here cost the hand-off switch 3.5-4.5 ns, 13-17%; this, 1-2 ns).
//     If a pass holds the task, the waker hands the wake-up on to it (one CAS, on that
//     rare path only) and does not enqueue the task. The task may then run before the
//     waker has finished what it does after the wake: a joiner before its finishing
//     joinee has stored kDone, which join_task therefore waits for (entry_points.cpp).
//   * A trimmer pass (ParkedStackTrimmer::pass) walks every task block: kParked becomes
//     kParkedOld; a kParkedOld task (parked across a whole interval) is held: the pass
//     sets its hold word, then makes one process-wide barrier (membarrier(2), for a batch
//     of up to kBatch tasks), then reads its state again. Store then load on each side,
//     with a full barrier between them on both sides (the workers' barrier is the one
//     membarrier forces on every CPU running the process): so either the pass sees the
//     waker's kRunnable, and leaves the task alone, or the waker sees the hold and leaves
//     the task to the pass (Dekker's handshake, with the fence's cost moved from every
//     wake to the trimmer, as liburcu and folly's asymmetric barriers do). Still
//     kParkedOld: no wake since the previous pass saw the task parked, and none can
//     enqueue it now, so its pages in [stack base, the saved stack pointer's page) go
//     back to the OS with one madvise(MADV_DONTNEED) (after a mincore: none if nothing
//     there is resident) and it becomes kParkedTrimmed. Then the pass drops the hold;
//     if a waker handed the wake-up on meanwhile, the pass makes the task runnable
//     (Scheduler::inject). A kParkedTrimmed task is not looked at again until it has run
//     and parked anew.
//   * Where membarrier's private expedited command is refused (kernels before 4.14, some
//     sandboxes, valgrind), parked stacks are not shrunk at all: nothing else makes the
//     wake side safe without a fence.
//
// Bounds and costs: a parked task's pages go back between one and two intervals after it
// parks, with at most one madvise per park episode, on the trimmer thread only: no system
// call on any park or wake path and no new atomic read-modify-write or fence on any
// switch path. A pass reads the state of every task block carved (about a nanosecond
// each), makes one membarrier per kBatch tasks parked across the interval (each costs an
// interrupt on every CPU running the process's threads), and one mincore and at most one
// madvise per such task. A wake that lands on a held task waits for the pass to finish
// with that task's batch (kBatch mincore/madvise calls at most). The pages come back
// zeroed, on demand, if the task goes deep again.
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
// Invariant: only a pass moves a block out of kParked or kParkedOld without running the
// task (to kParkedOld or kParkedTrimmed); a pass releases a task's pages only while it
// holds the task and has seen, after its barrier, no wake since the task parked; a task
// whose wake was handed on to a pass is enqueued exactly once, by that pass.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "task_blocks.h"

namespace green::detail {

class Scheduler;

// From a park's post action, once `t` is off its stack, before anyone can wake it. The
// release store publishes the task's saved context and stack to the trimmer.
inline void mark_parked(Task* t) noexcept {
  TaskArena::block_of(t)->state.store(kParked, std::memory_order_release);
}

// Before making a parked task runnable: false if a trimmer pass holds it, in which case
// the caller must not enqueue it (the pass will).
inline bool claim_parked(Task* t) noexcept {
  TaskArena::Block* b = TaskArena::block_of(t);
  b->state.store(kRunnable, std::memory_order_relaxed);
  // Store, then load: the pass's membarrier orders them (see above); the compiler must not.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (b->hold.load(std::memory_order_acquire) == kNotHeld) return true;
  std::uint32_t held = kHeld;
  return !b->hold.compare_exchange_strong(held, kHandedOn, std::memory_order_acq_rel);
}

// Whether this process may shrink parked stacks: registers it for membarrier's private
// expedited command on the first call; false where that is refused.
bool can_shrink_parked_stacks() noexcept;

class ParkedStackTrimmer {
 public:
  // Tasks held at once by a pass, per membarrier.
  static constexpr std::size_t kBatch = 32;

  ParkedStackTrimmer(TaskArena& arena, Scheduler& sched);

  // One pass over every task block (see above); passes are serialised. From the stack
  // pool's trimmer thread (StackPool::set_parked_pass), or a test.
  void pass() noexcept;

  std::uint64_t stacks_trimmed() const noexcept { return trimmed_.load(std::memory_order_relaxed); }
  std::uint64_t bytes_released() const noexcept { return released_.load(std::memory_order_relaxed); }

 private:
  static void visit(TaskArena::Block* b, void* self) noexcept;
  void trim_held() noexcept;  // the held batch: barrier, then each task
  void trim(Task* t) noexcept;

  TaskArena& arena_;
  Scheduler& sched_;
  const std::size_t page_;
  const bool available_;
  std::mutex pass_mu_;                      // one pass at a time
  TaskArena::Block* held_[kBatch];          // guarded by pass_mu_
  std::size_t held_count_ = 0;              // guarded by pass_mu_
  std::vector<unsigned char> residency_;    // mincore's answer; guarded by pass_mu_
  std::atomic<std::uint64_t> trimmed_{0};   // stacks whose pages went back (madvise calls)
  std::atomic<std::uint64_t> released_{0};  // resident bytes those calls released
};

}  // namespace green::detail
