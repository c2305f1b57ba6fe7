// pthread_runtime.h: raw POSIX threads as a TaskRuntime, with glibc's default stack
// ("pthread/stack:default": RLIMIT_STACK, 8 MiB here) or a fixed one set with
// pthread_attr_setstacksize ("pthread/stack:64KiB"). Hand-offs are futexes
// (futex_sync.h); yield is sched_yield; sleep_until is clock_nanosleep.
//
// Invariant: a Handle owns exactly one joinable thread or none; destroying a joinable one
// ends the process (as std::thread does), since a thread left running would outlive what
// it points to. spawn throws std::system_error with pthread_create's error and frees the
// closure when the thread could not be created.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include "tasks/task_runtime.h"
#include "threads/futex_sync.h"

namespace greenbench {

class PthreadRuntime {
 public:
  static constexpr TaskKind kind = TaskKind::os_thread;

  // stack_bytes 0: glibc's default; otherwise the exact size (a multiple of the page size,
  // at least PTHREAD_STACK_MIN).
  explicit PthreadRuntime(std::size_t stack_bytes) : stack_bytes_(stack_bytes) {}

  std::string prefix() const {
    return "pthread/stack:" +
           (stack_bytes_ == 0 ? std::string("default") : std::to_string(stack_bytes_ / 1024) + "KiB");
  }
  unsigned workers() const { return 0; }
  std::size_t stack_bytes() const { return stack_bytes_; }  // 0: glibc's default

  template <class F>
  void run(F&& root) const {
    std::forward<F>(root)();
  }

  class Handle {
   public:
    Handle() = default;
    explicit Handle(pthread_t thread) : thread_(thread), joinable_(true) {}
    Handle(Handle&& other) noexcept
        : thread_(other.thread_), joinable_(std::exchange(other.joinable_, false)) {}
    Handle& operator=(Handle&& other) noexcept {
      if (joinable_) std::terminate();
      thread_ = other.thread_;
      joinable_ = std::exchange(other.joinable_, false);
      return *this;
    }
    ~Handle() {
      if (joinable_) std::terminate();
    }

    void join() {
      if (!joinable_) throw std::logic_error("pthread Handle: join without a thread");
      const int rc = ::pthread_join(thread_, nullptr);
      if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_join");
      joinable_ = false;
    }

   private:
    pthread_t thread_{};
    bool joinable_ = false;
  };

  template <class F>
  Handle spawn(F&& f) const {
    using Fn = std::decay_t<F>;
    auto closure = std::make_unique<Fn>(std::forward<F>(f));
    pthread_attr_t attr;
    pthread_attr_t* attr_ptr = nullptr;
    if (stack_bytes_ != 0) {
      ::pthread_attr_init(&attr);
      attr_ptr = &attr;
      if (const int rc = ::pthread_attr_setstacksize(&attr, stack_bytes_); rc != 0) {
        ::pthread_attr_destroy(&attr);
        throw std::system_error(rc, std::generic_category(), "pthread_attr_setstacksize");
      }
    }
    pthread_t thread;
    const int rc = ::pthread_create(&thread, attr_ptr, &trampoline<Fn>, closure.get());
    if (attr_ptr) ::pthread_attr_destroy(attr_ptr);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_create");
    closure.release();  // the thread owns it now
    return Handle(thread);
  }

  static void yield() { ::sched_yield(); }
  static void sleep_until(std::chrono::steady_clock::time_point t) { std::this_thread::sleep_until(t); }

  using Event = FutexEvent;
  using WaitGroup = FutexWaitGroup;
  template <class T>
  using Channel = FutexChannel<T>;

 private:
  template <class Fn>
  static void* trampoline(void* arg) {
    std::unique_ptr<Fn> closure(static_cast<Fn*>(arg));
    (*closure)();
    return nullptr;
  }

  std::size_t stack_bytes_;
};

static_assert(TaskRuntime<PthreadRuntime>);

}  // namespace greenbench
