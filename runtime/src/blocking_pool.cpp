// blocking_pool.cpp: the helper threads of green::blocking() and run_blocking(), the
// parking side (design and invariant in blocking_pool.h).
#include "blocking_pool.h"

#include <algorithm>
#include <system_error>

#include "scheduler.h"
#include "worker.h"

namespace green::detail {

void BlockingPool::submit(BlockingCall& call) {
  std::unique_lock lk(mu_);
  queue_.push(&call);
  if (idle_ == 0 && threads_.size() < max_threads_) {
    try {
      threads_.emplace_back([this] { helper_main(); });
      peak_ = std::max(peak_, threads_.size());
    } catch (const std::system_error&) {
      if (!threads_.empty()) return;  // a busy helper takes it when it is done
      queue_.pop();                   // the only call queued: nobody could run it
      throw;
    }
    return;
  }
  lk.unlock();
  work_.notify_one();
}

void BlockingPool::helper_main() {
  std::unique_lock lk(mu_);
  for (;;) {
    while (!stopping_ && queue_.empty()) {
      ++idle_;
      work_.wait(lk);
      --idle_;
    }
    if (stopping_) return;
    BlockingCall* call = queue_.pop();
    lk.unlock();
    call->invoke();
    // The task released the lock once it was switched out: only then may it be woken.
    // After wake() the task may resume and end the call's life: touch nothing after.
    Task* waiter = call->waiter;
    call->lock.lock();
    call->lock.unlock();
    wake(waiter);
    lk.lock();
  }
}

std::size_t BlockingPool::threads_peak() const {
  std::lock_guard lk(mu_);
  return peak_;
}

void BlockingPool::shut_down() noexcept {
  std::vector<std::thread> helpers;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    while (queue_.pop()) {
    }
    helpers.swap(threads_);
  }
  work_.notify_all();
  for (auto& t : helpers) t.join();
}

void run_blocking(BlockingCall& call) {
  Worker* w = current_worker();
  if (!w || !w->sched.blocking_pool().enabled()) {
    call.invoke();  // a plain thread blocks only itself; no pool: the worker blocks
    return;
  }
  call.waiter = w->running();
  call.lock.lock();
  try {
    w->sched.blocking_pool().submit(call);
  } catch (...) {
    call.lock.unlock();
    throw;
  }
  park(call.lock);
}

}  // namespace green::detail
