// boost_fiber_runtime.h: Boost.Fiber 1.74 as a TaskRuntime. Entry prefix
// "boost_fiber/sched:S/workers:W/alloc:A":
//   sched:round_robin   Boost's default scheduler, on the calling thread only (workers:1)
//   sched:work_stealing algo::work_stealing on W threads (the caller and W-1 helpers), with
//                       its defaults: idle threads spin rather than sleep (suspend=false)
//   alloc:default       fixedsize_stack, Boost's default: one malloc of
//                       stack_traits::default_size() (128 KiB) per fiber, freed at its end
//   alloc:pooled        pooled_fixedsize_stack of the same size: freed stacks are kept in a
//                       boost::pool for reuse (Boost's fast allocator; FIELD-NOTES lesson 8)
// Fibers start with launch::dispatch (the new fiber runs at once, its parent waits in the
// ready queue), as Boost.Fiber's own skynet benchmarks do: with launch::post every fiber's
// stack is allocated when it is created but the fiber runs later, so a 1M-task skynet would
// hold a million eager 128 KiB stacks at once.
// Hand-off: Event is a buffered_channel<char> with one usable slot (capacity 2), WaitGroup
// a fibers::mutex + fibers::condition_variable + count, Channel<T> an unbuffered_channel<T>:
// Boost's own primitives, which park the fiber, not its thread.
//
// Invariants: work_stealing keeps process-wide state and fixes its thread count for the
// life of the process (Boost registers each thread's scheduler in a static table once), so
// its threads are started by the first run() and stay until the process exits; run()
// throws std::logic_error rather than install a second, different configuration in one
// process — run each configuration in its own process. boost::pool is not thread-safe, so
// under work_stealing (where a fiber may end on another thread than the one that created
// it) the pooled allocator is serialised by a mutex; round_robin uses it as it comes.
#pragma once

#include <boost/fiber/buffered_channel.hpp>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/fixedsize_stack.hpp>
#include <boost/fiber/mutex.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/pooled_fixedsize_stack.hpp>
#include <boost/fiber/unbuffered_channel.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "tasks/task_runtime.h"

namespace greenbench {

class BoostFiberRuntime {
 public:
  enum class Scheduler { round_robin, work_stealing };
  enum class Stacks { fixedsize, pooled };  // alloc:default, alloc:pooled

  static constexpr TaskKind kind = TaskKind::user_space;

  // round_robin runs on one thread: workers must be 1 (std::invalid_argument otherwise).
  BoostFiberRuntime(Scheduler scheduler, unsigned workers, Stacks stacks);

  std::string prefix() const;
  unsigned workers() const { return workers_; }

  // Root runs on the calling thread's main fiber, under the configured scheduler.
  template <class F>
  void run(F&& root) const {
    install_scheduler();
    std::forward<F>(root)();
  }

  using Handle = boost::fibers::fiber;

  template <class F>
  Handle spawn(F&& f) const {
    constexpr auto dispatch = boost::fibers::launch::dispatch;
    if (stacks_ == Stacks::fixedsize) {
      return Handle(dispatch, std::allocator_arg, boost::fibers::fixedsize_stack(), std::forward<F>(f));
    }
    if (scheduler_ == Scheduler::work_stealing) {
      return Handle(dispatch, std::allocator_arg, SerialisedStacks{pool_, pool_mutex_}, std::forward<F>(f));
    }
    return Handle(dispatch, std::allocator_arg, boost::fibers::pooled_fixedsize_stack(pool_),
                  std::forward<F>(f));
  }

  static void yield() { boost::this_fiber::yield(); }
  static void sleep_until(std::chrono::steady_clock::time_point t) { boost::this_fiber::sleep_until(t); }

  class Event {
   public:
    void signal() { slot_.try_push(char{0}); }  // full: a binary semaphore stays at one
    void wait() {
      char token;
      slot_.pop(token);
    }

   private:
    boost::fibers::buffered_channel<char> slot_{2};  // capacity 2 holds one value
  };

  template <class T>
  class Channel {
   public:
    void send(T value) { channel_.push(std::move(value)); }
    T recv() { return channel_.value_pop(); }

   private:
    boost::fibers::unbuffered_channel<T> channel_;
  };

  class WaitGroup {
   public:
    void add(std::int64_t delta);
    void done() { add(-1); }
    void wait();

   private:
    boost::fibers::mutex mutex_;
    boost::fibers::condition_variable zero_;
    std::int64_t count_ = 0;  // guarded by mutex_
  };

 private:
  // pooled_fixedsize_stack behind a mutex, for schedulers that move fibers between threads.
  struct SerialisedStacks {
    boost::fibers::pooled_fixedsize_stack pool;
    std::shared_ptr<std::mutex> mutex;
    boost::context::stack_context allocate() {
      std::lock_guard lock(*mutex);
      return pool.allocate();
    }
    void deallocate(boost::context::stack_context& stack) noexcept {
      std::lock_guard lock(*mutex);
      pool.deallocate(stack);
    }
  };

  // Installs this configuration's scheduler on the calling thread (and, for work_stealing,
  // starts the helper threads) the first time; throws std::logic_error if the process
  // already runs a different configuration.
  void install_scheduler() const;

  Scheduler scheduler_;
  unsigned workers_;
  Stacks stacks_;
  boost::fibers::pooled_fixedsize_stack pool_;  // copies share one pool
  std::shared_ptr<std::mutex> pool_mutex_ = std::make_shared<std::mutex>();
};

static_assert(TaskRuntime<BoostFiberRuntime>);

}  // namespace greenbench
