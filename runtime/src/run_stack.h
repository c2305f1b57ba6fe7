// run_stack.h: the run stack of a lone worker (Config::workers == 1): the tasks that the
// running task spawned or woke, run newest first (work-first, as Cilk's and rayon's owners
// pop their deques), so a spawn tree runs depth-first and holds about depth x fan-out
// started tasks, not a level of the tree. The owner pushes and pops at the top, and takes
// the bottom (the oldest) when the fairness tick moves it to the FIFO run queue
// (worker.h). A ring that doubles when full and never shrinks (8 bytes a slot: as many
// slots as the most tasks readied and not yet run at once), so no task ever spills into
// the FIFO queue, where the fairness tick would start it early, out of depth-first order.
//
// Invariant: owner only, no atomics: with one worker no other thread takes its tasks, so
// nothing here is shared. Every task pushed is taken exactly once, by pop or pop_bottom.
#pragma once

#include <cstdint>
#include <memory>
#include <new>

#include "fatal.h"
#include "green/detail/task.h"

namespace green::detail {

class RunStack {
 public:
  static constexpr std::uint32_t kInitialCapacity = 256;

  RunStack() : slots_(std::make_unique<Task*[]>(kInitialCapacity)) {}

  __attribute__((always_inline)) void push(Task* t) noexcept {
    if (top_ - bottom_ == mask_ + 1) [[unlikely]]
      grow();
    slots_[top_++ & mask_] = t;
  }
  // The newest task, or nullptr.
  __attribute__((always_inline)) Task* pop() noexcept {
    if (top_ == bottom_) return nullptr;
    return slots_[--top_ & mask_];
  }
  // The oldest task, or nullptr.
  Task* pop_bottom() noexcept {
    if (top_ == bottom_) return nullptr;
    return slots_[bottom_++ & mask_];
  }
  bool empty() const noexcept { return top_ == bottom_; }
  std::uint32_t size() const noexcept { return top_ - bottom_; }
  std::uint32_t capacity() const noexcept { return mask_ + 1; }

 private:
  // Doubles the ring, keeping the order from bottom to top. Out of memory it ends the
  // process, as a spawn with no stack to be had does (worker.cpp: start): a wake-up can
  // come from where nothing may be thrown.
  __attribute__((noinline)) void grow() noexcept {
    const std::uint32_t n = size();
    std::unique_ptr<Task*[]> bigger(new (std::nothrow) Task*[2 * std::size_t{n}]);
    if (!bigger) fatal("out of memory: no room to queue %u runnable tasks", 2 * n);
    for (std::uint32_t i = 0; i < n; ++i) bigger[i] = slots_[(bottom_ + i) & mask_];
    slots_ = std::move(bigger);
    mask_ = 2 * n - 1;
    bottom_ = 0;
    top_ = n;
  }

  // Positions count up and wrap at 2^32; a slot is a position masked by the capacity,
  // a power of two.
  std::uint32_t bottom_ = 0, top_ = 0;
  std::uint32_t mask_ = kInitialCapacity - 1;
  std::unique_ptr<Task*[]> slots_;
};

}  // namespace green::detail
