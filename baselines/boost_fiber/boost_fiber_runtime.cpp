// boost_fiber_runtime.cpp: installing Boost.Fiber's schedulers once per process, the
// work_stealing helper threads, and the WaitGroup (see boost_fiber_runtime.h).
#include "boost_fiber/boost_fiber_runtime.h"

#include <atomic>
#include <boost/fiber/algo/round_robin.hpp>
#include <boost/fiber/algo/work_stealing.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

namespace greenbench {
namespace {

// The W-1 threads that join the calling thread under algo::work_stealing. Each installs
// the algorithm (Boost's constructor waits until all W have registered) and then parks its
// main fiber, so that its dispatcher runs whatever it steals; with Boost's default
// suspend=false an idle dispatcher spins. They stop when the process exits: the main
// fiber wakes every kStopPoll to look at stop_, since no fiber primitive can be signalled
// from the main thread once its own scheduler is gone (thread-local objects are destroyed
// before static ones).
class WorkStealingThreads {
 public:
  explicit WorkStealingThreads(unsigned workers) {
    helpers_.reserve(workers - 1);
    for (unsigned i = 1; i < workers; ++i) {
      helpers_.emplace_back([this, workers] {
        boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(workers);
        while (!stop_.load(std::memory_order_acquire)) boost::this_fiber::sleep_for(kStopPoll);
      });
    }
    boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(workers);
  }
  WorkStealingThreads(const WorkStealingThreads&) = delete;
  WorkStealingThreads& operator=(const WorkStealingThreads&) = delete;
  ~WorkStealingThreads() {
    stop_.store(true, std::memory_order_release);
    for (std::thread& helper : helpers_) helper.join();
  }

 private:
  static constexpr std::chrono::milliseconds kStopPoll{5};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> helpers_;
};

}  // namespace

BoostFiberRuntime::BoostFiberRuntime(Scheduler scheduler, unsigned workers, Stacks stacks)
    : scheduler_(scheduler), workers_(workers), stacks_(stacks) {
  if (workers == 0 || (scheduler == Scheduler::round_robin && workers != 1)) {
    throw std::invalid_argument(
        "boost_fiber: round_robin runs on exactly one thread, "
        "work_stealing on one or more");
  }
}

std::string BoostFiberRuntime::prefix() const {
  return std::string("boost_fiber/sched:") +
         (scheduler_ == Scheduler::round_robin ? "round_robin" : "work_stealing") +
         "/workers:" + std::to_string(workers_) +
         "/alloc:" + (stacks_ == Stacks::fixedsize ? "default" : "pooled");
}

void BoostFiberRuntime::install_scheduler() const {
  // Called from the thread that runs the roots (one thread per process).
  static std::string installed;
  const std::string wanted = scheduler_ == Scheduler::round_robin
                                 ? std::string("sched:round_robin")
                                 : "sched:work_stealing/workers:" + std::to_string(workers_);
  if (installed == wanted) return;
  if (!installed.empty()) {
    throw std::logic_error("boost_fiber: this process already runs " + installed + "; " + wanted +
                           " needs a process of its own (work_stealing's thread count and "
                           "registration are fixed for the life of a process)");
  }
  if (scheduler_ == Scheduler::round_robin) {
    boost::fibers::use_scheduling_algorithm<boost::fibers::algo::round_robin>();
  } else {
    static WorkStealingThreads threads(workers_);
  }
  installed = wanted;
}

void BoostFiberRuntime::WaitGroup::add(std::int64_t delta) {
  std::unique_lock lock(mutex_);
  count_ += delta;
  if (count_ < 0) {
    std::fprintf(stderr, "boost_fiber WaitGroup: negative count\n");
    std::abort();
  }
  if (count_ == 0) zero_.notify_all();
}

void BoostFiberRuntime::WaitGroup::wait() {
  std::unique_lock lock(mutex_);
  zero_.wait(lock, [this] { return count_ == 0; });
}

}  // namespace greenbench
