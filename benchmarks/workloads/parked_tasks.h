// parked_tasks.h: tasks that are all alive at once and parked, the state the memory and
// max_count probes measure. Each task counts itself alive, says it is ready, and parks on
// one gate (an RT::WaitGroup holding a count of one) until release_all() opens it: OS
// threads sleep in a futex, fibers sit in their runtime's wait queue; none spins or polls.
// With a StackUse of `bytes`, each either parks under that much stack in use, or first
// recurses that deep and returns, then parks shallow (stack_depth.h): the stack it holds
// parked, or the stack it once needed and no longer does.
//
// Invariant: when wait_alive() returns, every spawned task has started and counted itself;
// the destructor releases and joins every task still held, so no path out of a
// measurement (an exception included) leaves a thread running or a fiber abandoned.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tasks/task_runtime.h"
#include "workloads/stack_depth.h"

namespace greenbench {

// How much stack a parked task used: none beyond its own frame (bytes 0), `bytes` of
// frames it parks under, or `bytes` of frames it wrote and returned from before parking.
struct StackUse {
  std::size_t bytes = 0;
  bool returned = false;  // true: recursed, returned, then parked shallow
};

template <TaskRuntime RT>
class ParkedTasks {
 public:
  // `capacity` handles are allocated and written now, before any reading is taken, so
  // that this bookkeeping is not counted as the tasks' memory; past it the vector grows.
  ParkedTasks(const RT& rt, std::size_t capacity, StackUse stack = {})
      : rt_(rt), handles_(capacity), stack_(stack) {
    gate_.add(1);
  }
  ParkedTasks(const ParkedTasks&) = delete;
  ParkedTasks& operator=(const ParkedTasks&) = delete;
  ~ParkedTasks() { release_all(); }

  // Starts one more parked task; throws what RT::spawn throws, leaving the counts as
  // they were.
  void spawn() {
    ready_.add(1);
    try {
      typename RT::Handle handle = rt_.spawn([this] {
        auto park = [this] {
          alive_.fetch_add(1, std::memory_order_relaxed);
          ready_.done();
          gate_.wait();
          alive_.fetch_sub(1, std::memory_order_relaxed);
        };
        if (stack_.bytes == 0) {
          park();  // directly: at_stack_depth's own frame would add to a shallow task's stack
        } else if (stack_.returned) {
          auto bottom = [] {};
          frames_sum_.fetch_add(at_stack_depth(stack_.bytes, bottom), std::memory_order_relaxed);
          park();  // from this frame, the deep frames returned from
        } else {
          frames_sum_.fetch_add(at_stack_depth(stack_.bytes, park), std::memory_order_relaxed);
        }
      });
      if (spawned_ < handles_.size()) {
        handles_[spawned_] = std::move(handle);
      } else {
        handles_.push_back(std::move(handle));
      }
      ++spawned_;
    } catch (...) {
      ready_.done();
      throw;
    }
  }

  std::int64_t spawned() const { return static_cast<std::int64_t>(spawned_); }

  // Blocks until every spawned task has started; returns how many are alive.
  std::int64_t wait_alive() {
    ready_.wait();
    return alive_.load(std::memory_order_relaxed);
  }

  // Opens the gate and joins every task; returns how many are still alive (0).
  std::int64_t release_all() {
    if (!released_) {
      released_ = true;
      gate_.done();
    }
    for (std::size_t i = 0; i < spawned_; ++i) handles_[i].join();
    spawned_ = 0;
    return alive_.load(std::memory_order_relaxed);
  }

 private:
  const RT& rt_;
  std::vector<typename RT::Handle> handles_;
  std::size_t spawned_ = 0;
  bool released_ = false;
  typename RT::WaitGroup ready_;  // one per spawned task that has not started yet
  typename RT::WaitGroup gate_;   // one until release_all()
  std::atomic<std::int64_t> alive_{0};
  const StackUse stack_;
  std::atomic<std::uint64_t> frames_sum_{0};  // keeps the frames of at_stack_depth alive
};

}  // namespace greenbench
