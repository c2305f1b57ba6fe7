// green/blocking.h: green::blocking(f), for a call that blocks its thread in the kernel
// (a read on a blocking descriptor, fsync, a library that sleeps): f runs on a helper
// thread of a bounded pool while the calling task parks, so the worker runs other tasks
// meanwhile. As Go hands its P to another thread when a goroutine enters a system call,
// and as Tokio's spawn_blocking runs a closure on its blocking pool.
//
// Invariant: blocking(f) returns only after f has returned (with f's result) or thrown
// (rethrown here); f runs on exactly one helper thread, never on a worker, and at most
// Config::blocking_threads calls run at once (the rest wait, in order, for a helper).
// The calling task stays parked, costing no worker, until f is done.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "green/detail/task.h"

namespace green {
namespace detail {

// One call handed to the pool; lives on the parked task's stack until it resumes.
struct BlockingCall {
  BlockingCall* next = nullptr;        // the pool's queue link, guarded by the pool's lock
  Task* waiter = nullptr;              // the parked task (null: a plain thread ran it in place)
  SpinLock lock;                       // held by the task until it is switched out
  std::exception_ptr error;            // what f threw
  virtual void invoke() noexcept = 0;  // runs f once, keeps its result or exception

 protected:
  ~BlockingCall() = default;
};

template <class F, class R>
struct BlockingCallOf final : BlockingCall {
  // A reference result is kept as a pointer; a void one as nothing (an empty optional).
  using Stored =
      std::conditional_t<std::is_void_v<R>, bool,
                         std::conditional_t<std::is_lvalue_reference_v<R>, std::remove_reference_t<R>*, R>>;
  explicit BlockingCallOf(F& fn) : f(fn) {}
  F& f;
  std::optional<Stored> result;
  void invoke() noexcept override {
    try {
      if constexpr (std::is_void_v<R>) {
        std::invoke(f);
      } else if constexpr (std::is_lvalue_reference_v<R>) {
        result.emplace(&std::invoke(f));
      } else {
        result.emplace(std::invoke(f));
      }
    } catch (...) {
      error = std::current_exception();
    }
  }
  R take() {
    if (error) std::rethrow_exception(error);
    if constexpr (std::is_lvalue_reference_v<R>) {
      return **result;
    } else if constexpr (!std::is_void_v<R>) {
      return std::move(*result);
    }
  }
};

// Runs call.invoke() on a helper thread and parks the current task until it has
// returned. Outside a task (a plain thread, which may block itself) it runs in place.
// Throws std::system_error when no helper thread can be started at all.
void run_blocking(BlockingCall& call);

}  // namespace detail

// Runs f() on a helper thread while the calling task parks; returns what f returned, or
// rethrows what it threw. From a plain thread it just calls f().
template <class F>
decltype(auto) blocking(F&& f) {
  using R = std::invoke_result_t<F&>;
  static_assert(!std::is_rvalue_reference_v<R>, "green::blocking: f may not return an rvalue reference");
  detail::BlockingCallOf<std::remove_reference_t<F>, R> call(f);
  detail::run_blocking(call);
  return call.take();
}

}  // namespace green
