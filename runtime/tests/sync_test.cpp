// sync_test.cpp: Mutex excludes, CondVar wakes, WaitGroup waits; on several workers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "green/green.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;

constexpr int kScale = green_test::kSanitized ? 10 : 1;

using green_test::workers;

// A plain (non-atomic) counter incremented by many tasks on several workers ends exact
// only if the mutex excludes. The read-yield-write widens the window for a lost update.
TEST(Mutex, ExcludesAcrossWorkers) {
  const int tasks = 64, per = 2000 / kScale;
  long counter = 0;
  green::run(workers(4), [&] {
    green::Mutex mu;
    std::vector<green::JoinHandle<void>> hs;
    for (int t = 0; t < tasks; ++t) {
      hs.push_back(green::spawn([&] {
        for (int i = 0; i < per; ++i) {
          std::lock_guard lk(mu);
          long v = counter;
          if (i % 16 == 0) green::this_task::yield();
          counter = v + 1;
        }
      }));
    }
    for (auto& h : hs) h.join();
  });
  EXPECT_EQ(counter, static_cast<long>(tasks) * per);
}

TEST(Mutex, TryLockFailsWhileHeld) {
  green::run(workers(1), [] {
    green::Mutex mu;
    mu.lock();
    auto h = green::spawn([&] { return mu.try_lock(); });
    EXPECT_FALSE(h.join());
    mu.unlock();
    EXPECT_TRUE(mu.try_lock());
    mu.unlock();
  });
}

// No fixed sleeps: the root knows every waiter is queued on the CondVar once it can take
// the mutex after each waiter said so holding it (CondVar::wait enqueues before it lets
// the mutex go). On one worker, a notify_one that woke more than one would have queued
// them all before the first woken task lets the root run again: `wakeups` would show it.
TEST(CondVar, NotifyOneWakesOneAndNotifyAllWakesTheRest) {
  green::run(workers(1), [] {
    green::Mutex mu;
    green::CondVar cv;
    green::WaitGroup waiting(10), first_woken(1);
    int permits = 0, woken = 0, wakeups = 0;
    std::vector<green::JoinHandle<void>> hs;
    for (int i = 0; i < 10; ++i) {
      hs.push_back(green::spawn([&] {
        std::unique_lock lk(mu);
        waiting.done();
        while (permits == 0) {
          cv.wait(lk);
          ++wakeups;
        }
        --permits;
        if (++woken == 1) first_woken.done();
      }));
    }
    waiting.wait();
    {
      std::lock_guard lk(mu);  // every waiter is on the CondVar's queue now
      permits = 1;
    }
    cv.notify_one();
    first_woken.wait();
    {
      std::lock_guard lk(mu);
      EXPECT_EQ(woken, 1);
      EXPECT_EQ(wakeups, 1) << "notify_one woke more than one waiter";
      permits = 9;
    }
    cv.notify_all();
    for (auto& h : hs) h.join();
    EXPECT_EQ(woken, 10);
    EXPECT_EQ(wakeups, 10);
  });
}

TEST(WaitGroup, WaitReturnsOnlyAfterEveryDone) {
  green::run(workers(2), [] {
    green::WaitGroup wg;
    std::atomic<int> done{0};
    const int n = 1000 / kScale;  // each task alive at once costs TSan a fiber
    wg.add(n);
    for (int i = 0; i < n; ++i) {
      green::go([&, i] {
        if (i % 3 == 0) green::this_task::sleep_for(1ms);
        done.fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(done.load(), n);
  });
}

TEST(WaitGroup, ManyWaitersAreAllReleased) {
  green::run(workers(2), [] {
    green::WaitGroup gate(1);
    std::atomic<int> released{0};
    std::vector<green::JoinHandle<void>> hs;
    for (int i = 0; i < 20; ++i)
      hs.push_back(green::spawn([&] {
        gate.wait();
        released.fetch_add(1);
      }));
    green::this_task::sleep_for(5ms);
    EXPECT_EQ(released.load(), 0);
    gate.done();
    for (auto& h : hs) h.join();
    EXPECT_EQ(released.load(), 20);
  });
}

}  // namespace
