// live_tasks.h: counts the tasks of a run that are live at once, the same way on every
// runtime, so that rows whose runtimes traverse a task tree in different orders (fiber
// run queues are FIFO: breadth-first; Boost.Fiber's dispatch runs a child at spawn:
// depth-first) say how many tasks each held at its peak.
//
// A task is live from the first statement of its body to its last: it has started and
// holds a stack on every runtime (ours takes a stack at a task's first run, Go and
// threads at spawn), so a task spawned but not yet started is not counted.
//
// Invariant: peak() is the largest value `live` held between reset() and the read, each
// enter() and leave() counted exactly once. The gauge costs two atomic read-modify-writes
// per task and contends between workers, so workloads count in their unreported warm-up
// run (the same work as a timed run) and never in a timed one.
#pragma once

#include <atomic>
#include <cstdint>

namespace greenbench {

class LiveTaskGauge {
 public:
  void enter() {
    const std::int64_t now = live_.fetch_add(1, std::memory_order_relaxed) + 1;
    std::int64_t peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }
  void leave() { live_.fetch_sub(1, std::memory_order_relaxed); }

  std::int64_t peak() const { return peak_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> live_{0};
  std::atomic<std::int64_t> peak_{0};
};

// Counts the enclosing task body as live while it runs; does nothing when `gauge` is null
// (a timed run).
class LiveTask {
 public:
  explicit LiveTask(LiveTaskGauge* gauge) : gauge_(gauge) {
    if (gauge_) gauge_->enter();
  }
  LiveTask(const LiveTask&) = delete;
  LiveTask& operator=(const LiveTask&) = delete;
  ~LiveTask() {
    if (gauge_) gauge_->leave();
  }

 private:
  LiveTaskGauge* gauge_;
};

}  // namespace greenbench
