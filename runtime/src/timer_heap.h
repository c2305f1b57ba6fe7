// timer_heap.h: a worker's sleeping tasks, earliest deadline first.
//
// Invariant: owned by one worker and touched only on its thread; a task is popped only
// once its deadline has passed (never early), and tasks with equal deadlines come out in
// the order they went to sleep.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "green/detail/task.h"

namespace green::detail {

using Clock = std::chrono::steady_clock;

class TimerHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  Clock::time_point earliest() const noexcept { return heap_.front().deadline; }

  void push(Clock::time_point deadline, Task* task) {
    heap_.push_back({deadline, seq_++, task});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }

  // Pops one task whose deadline is <= now, or returns nullptr.
  Task* pop_due(Clock::time_point now) noexcept {
    if (heap_.empty() || heap_.front().deadline > now) return nullptr;
    std::pop_heap(heap_.begin(), heap_.end(), later);
    Task* t = heap_.back().task;
    heap_.pop_back();
    return t;
  }

 private:
  struct Entry {
    Clock::time_point deadline;
    std::uint64_t seq;
    Task* task;
  };
  static bool later(const Entry& a, const Entry& b) noexcept {
    return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
  }
  std::vector<Entry> heap_;
  std::uint64_t seq_ = 0;
};

}  // namespace green::detail
