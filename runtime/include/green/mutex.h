// green/mutex.h: Mutex and CondVar that park the task, never its worker thread.
//
// Invariant: Mutex hands ownership straight to the longest-waiting task on unlock (no
// barging), so a waiter cannot starve; `locked_` stays true across the hand-off.
// Both must be used from inside tasks.
#pragma once

#include <mutex>

#include "green/detail/task.h"

namespace green {

class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock();
  bool try_lock();
  void unlock();

 private:
  detail::SpinLock guard_;
  bool locked_ = false;        // guarded by guard_
  detail::WaitQueue waiters_;  // guarded by guard_
};

class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Atomically releases `lock` and parks; re-acquires it before returning.
  void wait(std::unique_lock<Mutex>& lock);
  template <class Predicate>
  void wait(std::unique_lock<Mutex>& lock, Predicate pred) {
    while (!pred()) wait(lock);
  }
  void notify_one();
  void notify_all();

 private:
  detail::SpinLock guard_;
  detail::WaitQueue waiters_;  // guarded by guard_
};

}  // namespace green
