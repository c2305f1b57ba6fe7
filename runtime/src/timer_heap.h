// timer_heap.h: a worker's timers, earliest deadline first: sleeping tasks, and the
// timeouts of tasks parked on descriptors (poller.h).
//
// An I/O timeout may outlive its wait (the descriptor became ready first). Such an entry
// is stale: it is skipped when it fires, and dropped in bulk whenever stale entries could
// make up half the heap, so a busy server with timeouts on every read keeps a heap the
// size of its live waits, not of its past ones.
//
// Invariant: one worker's, pushed only on its thread, popped by any worker, always under
// that worker's timers_lock (worker.h); an entry is popped only once its deadline has
// passed (never early), and entries with equal deadlines come out in the order they
// were pushed.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "green/detail/task.h"

namespace green::detail {

using Clock = std::chrono::steady_clock;
struct PollDesc;

struct TimerEntry {
  Clock::time_point deadline;
  std::uint64_t seq;
  Task* task;
  PollDesc* pd;         // an I/O timeout of pd's side `side`, or nullptr (a sleep)
  std::uint32_t token;  // the side's wait sequence number when the task parked
  int side;
};

// Whether an I/O entry's wait has already ended (defined with PollDesc, in poller.cpp).
bool io_wait_ended(const TimerEntry& entry) noexcept;

class TimerHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t peak() const noexcept { return peak_; }
  Clock::time_point earliest() const noexcept { return heap_.front().deadline; }

  // A sleep (pd nullptr), or the timeout of a wait on pd's side `side` named by `token`.
  void push(Clock::time_point deadline, Task* task, PollDesc* pd, std::uint32_t token, int side) {
    if (heap_.size() >= compact_at_) {
      std::erase_if(heap_, [](const TimerEntry& e) { return e.pd && io_wait_ended(e); });
      std::make_heap(heap_.begin(), heap_.end(), later);
      compact_at_ = std::max(kMinCompaction, 2 * heap_.size());
    }
    heap_.push_back({deadline, seq_++, task, pd, token, side});
    std::push_heap(heap_.begin(), heap_.end(), later);
    peak_ = std::max(peak_, heap_.size());
  }

  // Pops one entry whose deadline is <= now into `out`; false when none is due.
  bool pop_due(Clock::time_point now, TimerEntry& out) noexcept {
    if (heap_.empty() || heap_.front().deadline > now) return false;
    std::pop_heap(heap_.begin(), heap_.end(), later);
    out = heap_.back();
    heap_.pop_back();
    return true;
  }

 private:
  static constexpr std::size_t kMinCompaction = 1024;
  static bool later(const TimerEntry& a, const TimerEntry& b) noexcept {
    return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
  }
  std::vector<TimerEntry> heap_;
  std::uint64_t seq_ = 0;
  std::size_t compact_at_ = kMinCompaction;
  std::size_t peak_ = 0;
};

}  // namespace green::detail
