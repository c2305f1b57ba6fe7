// std_thread_runtime.h: std::thread as it comes, as a TaskRuntime. Entry prefix
// "std_thread". Each task is a kernel thread with glibc's default stack (RLIMIT_STACK:
// 8 MiB reserved, committed as touched, one guard page); hand-offs are futexes
// (futex_sync.h); yield is sched_yield; sleep_until is clock_nanosleep.
//
// Sockets (Net, for the echo workload): blocking ones, a thread per connection blocked in
// the kernel (blocking_socket.h).
//
// Invariant: run() is the calling thread itself; spawn throws std::system_error (EAGAIN
// when a thread limit binds) and leaves nothing behind when it does.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "tasks/task_runtime.h"
#include "threads/blocking_socket.h"
#include "threads/futex_sync.h"

namespace greenbench {

class StdThreadRuntime {
 public:
  static constexpr TaskKind kind = TaskKind::os_thread;

  std::string prefix() const { return "std_thread"; }
  unsigned workers() const { return 0; }

  template <class F>
  void run(F&& root) const {
    std::forward<F>(root)();
  }

  using Handle = std::thread;

  template <class F>
  Handle spawn(F&& f) const {
    return std::thread(std::forward<F>(f));
  }

  static void yield() { std::this_thread::yield(); }
  static void sleep_until(std::chrono::steady_clock::time_point t) { std::this_thread::sleep_until(t); }

  using Event = FutexEvent;
  using WaitGroup = FutexWaitGroup;
  template <class T>
  using Channel = FutexChannel<T>;
  using Net = BlockingSockets;
};

static_assert(TaskRuntime<StdThreadRuntime>);

}  // namespace greenbench
