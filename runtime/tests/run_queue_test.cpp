// run_queue_test.cpp: the lock-free local run queue (src/run_queue.h) tested directly, as
// Go tests its runq: order across wrap-around, the full ring, pop_batch,
// steal-half, and owner and thieves racing (under TSan this checks the ring's memory
// ordering too).
//
// Invariant checked throughout: every task pushed is taken exactly once, by the owner's
// pop or by exactly one thief.
#include "run_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "run_stack.h"
#include "test_support.h"

namespace {

using green::detail::RunQueue;
using green::detail::RunStack;
using green::detail::Task;

// A task that is only ever queued, never run.
struct Item final : Task {
  int n = 0;
  void invoke() override {}
};

std::vector<Item> items(int n) {
  std::vector<Item> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)].n = i;
  return v;
}

int number(Task* t) { return static_cast<Item*>(t)->n; }

// rotate (a yield on one worker): the head comes out and the task goes in at the tail,
// as pop then push would, also across the ring's wrap-around and on a full ring (whose
// tail slot is the head's); on an empty queue it takes nothing and queues nothing.
TEST(RunQueue, RotateTakesTheHeadAndQueuesAtTheTailEvenWhenFull) {
  RunQueue q(false);
  auto v = items(static_cast<int>(RunQueue::kCapacity) + 1);
  EXPECT_EQ(q.rotate(&v[0]), nullptr);
  EXPECT_TRUE(q.empty());
  for (std::uint32_t i = 0; i < RunQueue::kCapacity; ++i) ASSERT_TRUE(q.push(&v[i]));
  // Full: each rotate hands out the oldest and keeps the ring full, in order.
  Task* running = &v[RunQueue::kCapacity];
  for (int round = 0; round < 3 * static_cast<int>(RunQueue::kCapacity); ++round) {
    Task* next = q.rotate(running);
    ASSERT_NE(next, nullptr);
    ASSERT_EQ(number(next), round % static_cast<int>(RunQueue::kCapacity + 1)) << "round " << round;
    ASSERT_EQ(q.size(), RunQueue::kCapacity);
    running = next;
  }
  // One task queued: rotate swaps it with the running one.
  RunQueue one(false);
  ASSERT_TRUE(one.push(&v[0]));
  EXPECT_EQ(number(one.rotate(&v[1])), 0);
  EXPECT_EQ(number(one.rotate(&v[0])), 1);
  EXPECT_EQ(number(one.pop()), 0);
  EXPECT_EQ(one.pop(), nullptr);
}

TEST(RunQueue, PopsInPushOrderAcrossTheRingsWrapAround) {
  for (bool shared : {false, true}) {
    RunQueue q(shared);
    auto v = items(3 * static_cast<int>(RunQueue::kCapacity));
    // Push and pop in rounds of 200, so head and tail cross the end of the ring several
    // times at different offsets.
    int next_in = 0, next_out = 0;
    while (next_out < static_cast<int>(v.size())) {
      for (int k = 0; k < 200 && next_in < static_cast<int>(v.size()); ++k) {
        ASSERT_TRUE(q.push(&v[static_cast<std::size_t>(next_in++)]));
      }
      EXPECT_EQ(q.size(), static_cast<std::uint32_t>(next_in - next_out));
      while (Task* t = q.pop()) EXPECT_EQ(number(t), next_out++);
    }
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.pop(), nullptr);
  }
}

TEST(RunQueue, RefusesAPushWhenFullAndKeepsWhatItHolds) {
  RunQueue q(true);
  auto v = items(static_cast<int>(RunQueue::kCapacity) + 1);
  for (std::uint32_t i = 0; i < RunQueue::kCapacity; ++i) ASSERT_TRUE(q.push(&v[i]));
  EXPECT_FALSE(q.push(&v[RunQueue::kCapacity]));
  EXPECT_EQ(q.size(), RunQueue::kCapacity);
  // Room again after one pop; the refused task was not stored.
  EXPECT_EQ(number(q.pop()), 0);
  EXPECT_TRUE(q.push(&v[RunQueue::kCapacity]));
  for (std::uint32_t i = 1; i <= RunQueue::kCapacity; ++i) EXPECT_EQ(number(q.pop()), static_cast<int>(i));
  EXPECT_TRUE(q.empty());
}

TEST(RunQueue, PopBatchTakesTheOldestAndStopsWhenEmpty) {
  RunQueue q(true);
  auto v = items(10);
  for (auto& it : v) q.push(&it);
  Task* out[16];
  ASSERT_EQ(q.pop_batch(out, 4), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(number(out[i]), i);
  ASSERT_EQ(q.pop_batch(out, 16), 6u);
  EXPECT_EQ(number(out[0]), 4);
  EXPECT_EQ(q.pop_batch(out, 16), 0u);
}

TEST(RunQueue, StealTakesTheOlderHalfAndReturnsOneToRun) {
  for (int n : {1, 2, 7, 10, static_cast<int>(RunQueue::kCapacity)}) {
    RunQueue victim(true), thief(true);
    auto v = items(n);
    for (auto& it : v) victim.push(&it);
    const int taken = n - n / 2;  // half, rounded up
    Task* run = victim.steal_into(thief);
    ASSERT_NE(run, nullptr) << n;
    // The thief runs the last of the tasks it took and queues the rest, oldest first.
    EXPECT_EQ(number(run), taken - 1) << n;
    EXPECT_EQ(thief.size(), static_cast<std::uint32_t>(taken - 1)) << n;
    for (int i = 0; i < taken - 1; ++i) EXPECT_EQ(number(thief.pop()), i) << n;
    // The victim keeps the newer half, in order.
    EXPECT_EQ(victim.size(), static_cast<std::uint32_t>(n / 2)) << n;
    for (int i = taken; i < n; ++i) EXPECT_EQ(number(victim.pop()), i) << n;
  }
  RunQueue empty(true), thief(true);
  EXPECT_EQ(empty.steal_into(thief), nullptr);
  EXPECT_TRUE(thief.empty());
}

TEST(RunQueue, StealIntoAQueueWhoseIndicesWrap) {
  RunQueue victim(true), thief(true);
  auto v = items(300);
  // Move the thief's tail near the end of its ring first.
  for (int i = 0; i < 250; ++i) {
    thief.push(&v[0]);
    thief.pop();
  }
  for (int i = 0; i < 20; ++i) victim.push(&v[static_cast<std::size_t>(i)]);
  EXPECT_EQ(number(victim.steal_into(thief)), 9);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(number(thief.pop()), i);
  EXPECT_TRUE(thief.empty());
}

// The owner pushes (and pops some) while thieves steal half at a time into queues of
// their own and drain them: every task is taken exactly once.
TEST(RunQueue, OwnerAndConcurrentThievesTakeEachTaskExactlyOnce) {
  const int n = green_test::kSanitized ? 20'000 : 200'000;
  constexpr int kThieves = 3;
  auto v = items(n);
  std::vector<std::atomic<int>> taken(static_cast<std::size_t>(n));
  std::atomic<int> total{0};
  auto take = [&](Task* t) {
    taken[static_cast<std::size_t>(number(t))].fetch_add(1, std::memory_order_relaxed);
    total.fetch_add(1, std::memory_order_relaxed);
  };
  RunQueue owner(true);
  std::atomic<bool> pushed_all{false};
  std::vector<std::thread> thieves;
  for (int k = 0; k < kThieves; ++k) {
    thieves.emplace_back([&] {
      RunQueue mine(true);
      while (!pushed_all.load(std::memory_order_acquire) || !owner.empty()) {
        if (Task* t = owner.steal_into(mine)) {
          take(t);
          while (Task* u = mine.pop()) take(u);
        }
      }
    });
  }
  for (int i = 0; i < n; ++i) {
    while (!owner.push(&v[static_cast<std::size_t>(i)])) {
      if (Task* t = owner.pop()) take(t);  // full: the owner runs one itself
    }
    if (i % 3 == 0) {
      if (Task* t = owner.pop()) take(t);
    }
  }
  pushed_all.store(true, std::memory_order_release);
  while (Task* t = owner.pop()) take(t);
  for (auto& t : thieves) t.join();
  EXPECT_EQ(total.load(), n);
  int wrong = 0;
  for (auto& c : taken) wrong += c.load() != 1;
  EXPECT_EQ(wrong, 0) << "tasks taken twice or never";
}

// The run stack (one worker's readied tasks, src/run_stack.h): newest first from the top,
// oldest first from the bottom, across the ring's wrap-around and its growth.
TEST(RunStack, PopsNewestFirstAndPopBottomTakesTheOldest) {
  RunStack s;
  constexpr int kMany = 3 * static_cast<int>(RunStack::kInitialCapacity);
  auto v = items(kMany);
  EXPECT_EQ(s.pop(), nullptr);
  EXPECT_EQ(s.pop_bottom(), nullptr);
  // Rounds that leave the bottom moving up, so positions cross the end of the ring.
  int next = 0;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 100; ++i) s.push(&v[static_cast<std::size_t>((next + i) % kMany)]);
    EXPECT_EQ(number(s.pop_bottom()), next % kMany);  // the oldest
    EXPECT_EQ(number(s.pop()), (next + 99) % kMany);  // the newest
    for (int i = 98; i >= 1; --i) ASSERT_EQ(number(s.pop()), (next + i) % kMany);
    EXPECT_TRUE(s.empty());
    next += 100;
  }
  EXPECT_EQ(s.capacity(), RunStack::kInitialCapacity);
  // Past its capacity, with the bottom off the ring's start: it grows, in order.
  s.push(&v[0]);
  EXPECT_EQ(number(s.pop_bottom()), 0);
  for (int i = 0; i < kMany; ++i) s.push(&v[static_cast<std::size_t>(i)]);
  EXPECT_EQ(s.size(), static_cast<std::uint32_t>(kMany));
  EXPECT_EQ(s.capacity(), 4 * RunStack::kInitialCapacity);
  EXPECT_EQ(number(s.pop_bottom()), 0);
  for (int i = kMany - 1; i >= 1; --i) ASSERT_EQ(number(s.pop()), i);
  EXPECT_EQ(s.pop(), nullptr);
}

}  // namespace
