// sync.cpp: Mutex, CondVar and WaitGroup (green/mutex.h, green/wait_group.h), all built
// on the same pattern: check state under the primitive's spin lock; to block, join its
// wait queue and park, which releases the lock only once the task is switched out.
#include "fatal.h"
#include "green/mutex.h"
#include "green/wait_group.h"

namespace green {

void Mutex::lock() {
  guard_.lock();
  if (!locked_) {
    locked_ = true;
    guard_.unlock();
    return;
  }
  waiters_.push(detail::current_task());
  detail::park(guard_);  // woken as the new owner: unlock() handed the mutex over
}

bool Mutex::try_lock() {
  guard_.lock();
  bool acquired = !locked_;
  locked_ = true;
  guard_.unlock();
  return acquired;
}

void Mutex::unlock() {
  guard_.lock();
  detail::Task* next = waiters_.pop();
  if (!next) locked_ = false;
  guard_.unlock();
  if (next) detail::wake(next);
}

void CondVar::wait(std::unique_lock<Mutex>& lock) {
  guard_.lock();
  waiters_.push(detail::current_task());
  // Enqueued before the mutex is released, so a notify after unlock cannot be missed.
  lock.mutex()->unlock();
  detail::park(guard_);
  lock.mutex()->lock();
}

void CondVar::notify_one() {
  guard_.lock();
  detail::Task* t = waiters_.pop();
  guard_.unlock();
  if (t) detail::wake(t);
}

void CondVar::notify_all() {
  guard_.lock();
  detail::WaitQueue all = std::exchange(waiters_, {});
  guard_.unlock();
  while (detail::Task* t = all.pop()) detail::wake(t);
}

void WaitGroup::add(std::int64_t delta) {
  guard_.lock();
  count_ += delta;
  if (count_ < 0) {
    detail::fatal("WaitGroup counter went negative");
  }
  detail::WaitQueue ready;
  if (count_ == 0) ready = std::exchange(waiters_, {});
  guard_.unlock();
  while (detail::Task* t = ready.pop()) detail::wake(t);
}

void WaitGroup::wait() {
  guard_.lock();
  if (count_ == 0) {
    guard_.unlock();
    return;
  }
  waiters_.push(detail::current_task());
  detail::park(guard_);
}

}  // namespace green
