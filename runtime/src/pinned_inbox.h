// pinned_inbox.h: a worker's inbox of pinned tasks (green::spawn_on): runnable tasks
// that may run on this worker only. Any thread pushes; only the owner pops; no one steals.
//
// Pushers link the task onto an atomic stack (one CAS, never a lock); the owner takes the
// whole stack at once (one exchange) when its private list is empty and reverses it into
// that list, so tasks come out in the order they were pushed, and the owner pops without
// a lock (pick_fair runs while a parking task may hold its wait queue's lock). Taking the
// whole stack, never one node, leaves no ABA: a pusher's CAS only ever compares the head.
//
// Invariant: a task is in at most one queue (task.h); while it is in the inbox its `next`
// belongs to the inbox. `empty()` read by the owner after registering as idle sees every
// push that came before the pusher's look at the idle list (the Dekker handshake of
// scheduler.h: Scheduler::notify_worker).
#pragma once

#include <atomic>

#include "green/detail/task.h"

namespace green::detail {

class PinnedInbox {
 public:
  // Any thread.
  void push(Task* t) noexcept {
    Task* head = shared_.load(std::memory_order_relaxed);
    do {
      t->next = head;
    } while (!shared_.compare_exchange_weak(head, t, std::memory_order_release, std::memory_order_relaxed));
  }

  // Owner only: the oldest task, or nullptr.
  Task* pop() noexcept {
    if (!own_) {
      if (shared_.load(std::memory_order_relaxed) == nullptr) return nullptr;
      Task* stack = shared_.exchange(nullptr, std::memory_order_acquire);
      while (stack) {  // newest first: reversing it puts the oldest at the front
        Task* next = stack->next;
        stack->next = own_;
        own_ = stack;
        stack = next;
      }
    }
    Task* t = own_;
    own_ = t->next;
    t->next = nullptr;
    return t;
  }

  // Owner only.
  bool empty() const noexcept { return !own_ && shared_.load(std::memory_order_acquire) == nullptr; }

 private:
  std::atomic<Task*> shared_{nullptr};  // pushed by anyone, newest first
  Task* own_ = nullptr;                 // the owner's, oldest first
};

}  // namespace green::detail
