// timer_heap_test.cpp: a worker's timer heap (src/timer_heap.h) tested directly:
// earliest deadline first, never early, equal deadlines in push order, and stale I/O
// timeouts dropped in bulk so the heap stays the size of its live waits.
#include "timer_heap.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "poller.h"

namespace {

using green::detail::Clock;
using green::detail::PollDesc;
using green::detail::Task;
using green::detail::TimerEntry;
using green::detail::TimerHeap;
using namespace std::chrono_literals;

struct Item final : Task {
  void invoke() override {}
};

TEST(TimerHeap, PopsEarliestFirstAndNeverEarly) {
  TimerHeap h;
  std::vector<Item> tasks(5);
  const Clock::time_point t0{};
  const int order[] = {30, 10, 50, 20, 40};
  for (int i = 0; i < 5; ++i)
    h.push(t0 + std::chrono::milliseconds(order[i]), &tasks[static_cast<std::size_t>(i)], nullptr, 0, 0);
  EXPECT_EQ(h.earliest(), t0 + 10ms);
  EXPECT_EQ(h.peak(), 5u);
  TimerEntry e{};
  EXPECT_FALSE(h.pop_due(t0 + 9ms, e)) << "popped before its deadline";
  ASSERT_TRUE(h.pop_due(t0 + 25ms, e));
  EXPECT_EQ(e.task, &tasks[1]);
  ASSERT_TRUE(h.pop_due(t0 + 25ms, e));
  EXPECT_EQ(e.task, &tasks[3]);
  EXPECT_FALSE(h.pop_due(t0 + 25ms, e));
  EXPECT_EQ(h.earliest(), t0 + 30ms);
  for (std::size_t want : {0u, 4u, 2u}) {
    ASSERT_TRUE(h.pop_due(t0 + 1s, e));
    EXPECT_EQ(e.task, &tasks[want]);
  }
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(h.pop_due(t0 + 1h, e));
}

TEST(TimerHeap, EqualDeadlinesComeOutInPushOrder) {
  TimerHeap h;
  std::vector<Item> tasks(100);
  const Clock::time_point at = Clock::time_point{} + 5ms;
  for (auto& t : tasks) h.push(at, &t, nullptr, 0, 0);
  TimerEntry e{};
  for (auto& t : tasks) {
    ASSERT_TRUE(h.pop_due(at, e));
    EXPECT_EQ(e.task, &t);
  }
}

TEST(TimerHeap, KeepsWhatAnIoTimeoutNeedsToFindItsWait) {
  TimerHeap h;
  PollDesc pd;
  Item t;
  h.push(Clock::time_point{} + 1ms, &t, &pd, 7, PollDesc::kWrite);
  TimerEntry e{};
  ASSERT_TRUE(h.pop_due(Clock::time_point{} + 1ms, e));
  EXPECT_EQ(e.pd, &pd);
  EXPECT_EQ(e.token, 7u);
  EXPECT_EQ(e.side, PollDesc::kWrite);
}

// A server with a timeout on every read leaves a stale entry behind each read that
// finished in time: once the heap could be half stale, a push drops them all.
TEST(TimerHeap, DropsStaleIoTimeoutsInBulk) {
  TimerHeap h;
  PollDesc pd;
  Item t;
  const Clock::time_point at = Clock::time_point{} + 1s;
  // 1,024 timeouts of waits named by token 0 on the read side ...
  for (int i = 0; i < 1024; ++i) h.push(at, &t, &pd, 0, PollDesc::kRead);
  // ... which all ended (the side's sequence number moved on).
  pd.side[PollDesc::kRead].seq.store(1);
  // One live timeout (the current wait) and one sleep.
  h.push(at, &t, &pd, 1, PollDesc::kRead);
  h.push(at, &t, nullptr, 0, 0);
  TimerEntry e{};
  int left = 0, stale = 0;
  while (h.pop_due(at, e)) {
    ++left;
    stale += e.pd && green::detail::io_wait_ended(e);
  }
  EXPECT_EQ(left, 2);
  EXPECT_EQ(stale, 0);
  EXPECT_EQ(h.peak(), 1024u);
}

}  // namespace
