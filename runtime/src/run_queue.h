// run_queue.h: a worker's local run queue, after Go's runq (runtime/proc.go): a bounded
// ring that its owner pushes at the tail and pops at the head, and that other workers
// steal from, taking half of it at once.
//
// Invariant: only the owner writes `tail_` and the slots; `head_` moves forward by CAS
// (owner pop or thief steal), so a task is taken exactly once. A thief copies slots
// before its CAS and discards the copy if the CAS fails, so a slot overwritten by the
// owner meanwhile is never used. With one worker there are no thieves, and the owner's
// pop is a plain store (`shared` is false).
#pragma once

#include <atomic>
#include <cstdint>

#include "green/detail/task.h"

namespace green::detail {

class RunQueue {
 public:
  static constexpr std::uint32_t kCapacity = 256;

  explicit RunQueue(bool shared) : shared_(shared) {}

  // Owner only. False when full (the caller moves half to the global queue). Always
  // inlined, as pop is: both are on every switch.
  __attribute__((always_inline)) bool push(Task* t) noexcept {
    std::uint32_t tail = tail_.load(std::memory_order_relaxed);
    std::uint32_t head = head_.load(std::memory_order_acquire);
    if (tail - head >= kCapacity) return false;
    slots_[tail % kCapacity].store(t, std::memory_order_relaxed);
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Owner of an unshared queue only (a yield on one worker): takes the head and puts `t`
  // at the tail in one step, as pop then push would; nullptr, with `t` not queued, when
  // the queue is empty. Never fails for want of room: the slot it fills is the one it
  // frees or a free one (the head is read before a full queue's tail slot, the same
  // slot, is written).
  __attribute__((always_inline)) Task* rotate(Task* t) noexcept {
    std::uint32_t head = head_.load(std::memory_order_relaxed);
    std::uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (head == tail) return nullptr;
    Task* next = slots_[head % kCapacity].load(std::memory_order_relaxed);
    slots_[tail % kCapacity].store(t, std::memory_order_relaxed);
    head_.store(head + 1, std::memory_order_relaxed);
    tail_.store(tail + 1, std::memory_order_relaxed);
    return next;
  }
  // Owner only. The unshared case is a few plain loads and a store, small enough to
  // inline into every switch; the shared one races thieves with a CAS loop.
  __attribute__((always_inline)) Task* pop() noexcept {
    if (shared_) return pop_shared();
    std::uint32_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_relaxed)) return nullptr;
    Task* t = slots_[head % kCapacity].load(std::memory_order_relaxed);
    head_.store(head + 1, std::memory_order_relaxed);
    return t;
  }

  // Owner only: takes the first `n` tasks (for moving half to the global queue); returns
  // how many it took.
  std::uint32_t pop_batch(Task** out, std::uint32_t n) noexcept {
    std::uint32_t taken = 0;
    while (taken < n) {
      Task* t = pop();
      if (!t) break;
      out[taken++] = t;
    }
    return taken;
  }

  // Any thread: moves about half of this queue into `into` (which must be the caller's
  // own, empty queue) and returns one task to run, or nullptr.
  Task* steal_into(RunQueue& into) noexcept {
    std::uint32_t into_tail = into.tail_.load(std::memory_order_relaxed);
    for (;;) {
      std::uint32_t head = head_.load(std::memory_order_acquire);
      std::uint32_t tail = tail_.load(std::memory_order_acquire);
      std::uint32_t n = tail - head;
      if (n == 0 || n > kCapacity) return nullptr;  // empty, or a torn read: try later
      n -= n / 2;
      for (std::uint32_t i = 0; i < n; ++i) {
        Task* t = slots_[(head + i) % kCapacity].load(std::memory_order_relaxed);
        into.slots_[(into_tail + i) % kCapacity].store(t, std::memory_order_relaxed);
      }
      if (head_.compare_exchange_weak(head, head + n, std::memory_order_acq_rel, std::memory_order_acquire)) {
        // Keep the last one to run now; publish the rest.
        Task* run = into.slots_[(into_tail + n - 1) % kCapacity].load(std::memory_order_relaxed);
        if (n > 1) into.tail_.store(into_tail + n - 1, std::memory_order_release);
        return run;
      }
    }
  }

  // Exact for the owner, up to thieves' concurrent takes.
  std::uint32_t size() const noexcept {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }
  bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  Task* pop_shared() noexcept {
    std::uint32_t head = head_.load(std::memory_order_acquire);
    for (;;) {
      std::uint32_t tail = tail_.load(std::memory_order_relaxed);
      if (head == tail) return nullptr;
      Task* t = slots_[head % kCapacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(head, head + 1, std::memory_order_release, std::memory_order_acquire)) {
        return t;
      }
    }
  }

  const bool shared_;
  alignas(64) std::atomic<std::uint32_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  alignas(64) std::atomic<Task*> slots_[kCapacity] = {};
};

}  // namespace green::detail
