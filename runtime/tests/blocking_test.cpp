// blocking_test.cpp: green::blocking(f): f runs on a helper thread while the task parks
// (its worker runs other tasks meanwhile), the pool's bound, results and exceptions
// crossing back, and the end of a run with calls in flight or queued.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "green/green.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using green_test::wait_on_thread;
using green_test::workers;

green::Config with_pool(unsigned n_workers, std::size_t helpers) {
  green::Config c = workers(n_workers);
  c.blocking_threads = helpers;
  return c;
}

TEST(Blocking, ReturnsTheResultOfFRunOnAnotherThread) {
  green::run(workers(1), [] {
    const std::thread::id worker_thread = std::this_thread::get_id();
    std::thread::id ran_on;
    const int v = green::blocking([&] {
      ran_on = std::this_thread::get_id();
      return 42;
    });
    EXPECT_EQ(v, 42);
    EXPECT_NE(ran_on, worker_thread);
    auto p = green::blocking([] { return std::make_unique<int>(7); });  // move-only
    EXPECT_EQ(*p, 7);
    int x = 1;
    int& r = green::blocking([&]() -> int& { return x; });
    EXPECT_EQ(&r, &x);
  });
}

TEST(Blocking, RethrowsWhatFThrew) {
  green::run(workers(1), [] {
    try {
      green::blocking([]() -> int { throw std::runtime_error("from the helper"); });
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "from the helper");
    }
  });
}

// One worker: f waits for a task of the same worker, which can run only if the worker is
// free while f blocks.
TEST(Blocking, TheWorkerRunsOtherTasksWhileFBlocks) {
  std::atomic<bool> other_ran{false};
  bool f_saw_it = false;
  green::run(workers(1), [&] {
    auto other = green::spawn([&] { other_ran = true; });
    f_saw_it = green::blocking([&] { return wait_on_thread([&] { return other_ran.load(); }); });
    other.join();
  });
  EXPECT_TRUE(f_saw_it);
}

// More calls than helpers: never more than the bound at once, every call done, and the
// bound reached (the first calls wait until as many as the bound run together).
TEST(Blocking, AtMostTheBoundOfCallsRunAtOnce) {
  constexpr std::size_t kBound = 2;
  constexpr int kCalls = 8;
  std::atomic<int> running{0}, most{0}, done{0};
  auto report = green::run(with_pool(2, kBound), [&] {
    std::vector<green::JoinHandle<void>> tasks;
    for (int i = 0; i < kCalls; ++i) {
      tasks.push_back(green::spawn([&] {
        green::blocking([&] {
          const int now = ++running;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          wait_on_thread([&] { return most.load() >= static_cast<int>(kBound) || done.load() > 0; });
          std::this_thread::sleep_for(1ms);  // give a call over the bound time to show up
          --running;
          ++done;
        });
      }));
    }
    for (auto& t : tasks) t.join();
  });
  EXPECT_EQ(done.load(), kCalls);
  EXPECT_EQ(most.load(), static_cast<int>(kBound));
  EXPECT_EQ(report.blocking_threads_peak, kBound);
}

TEST(Blocking, ZeroHelpersRunsFInPlaceOnTheWorker) {
  auto report = green::run(with_pool(1, 0), [] {
    const std::thread::id worker_thread = std::this_thread::get_id();
    EXPECT_EQ(green::blocking([] { return std::this_thread::get_id(); }), worker_thread);
  });
  EXPECT_EQ(report.blocking_threads_peak, 0u);
}

TEST(Blocking, OutsideATaskRunsFInPlace) {
  EXPECT_EQ(green::blocking([] { return std::this_thread::get_id(); }), std::this_thread::get_id());
}

// The root returns while one call runs and another waits for the only helper: run()
// waits for the first to return (it writes into its task's stack) and never starts the
// second; both tasks are abandoned with the run.
TEST(Blocking, RunEndsCleanlyWithCallsInFlight) {
  std::atomic<bool> first_started{false}, first_returned{false}, second_ran{false};
  auto report = green::run(with_pool(1, 1), [&] {
    green::go([&] {
      // Runs (from the run stack: one worker) once we block, so its call queues behind
      // ours: the pool's one thread is taken by then.
      green::go([&] { green::blocking([&] { second_ran = true; }); });
      // Written into the parked task's frame. (Nothing that owns memory: objects in an
      // abandoned task's frames are never destroyed, runtime/README.md.)
      std::array<char, 1000> result = green::blocking([&] {
        first_started = true;
        std::this_thread::sleep_for(50ms);
        first_returned = true;
        std::array<char, 1000> page;
        page.fill('x');
        return page;
      });
      ADD_FAILURE() << "an abandoned task resumed, with " << result[0];
    });
    EXPECT_TRUE(green_test::wait_in_task([&] { return first_started.load(); }));
  });
  EXPECT_TRUE(first_returned.load());
  EXPECT_FALSE(second_ran.load());
  EXPECT_EQ(report.tasks_abandoned, 2u);
}

// Many tasks over a few helpers on several workers: every result comes back to its own
// caller (under TSan this also checks the hand-over of results between threads).
TEST(Blocking, ManyCallsEachGetTheirOwnResult) {
  constexpr int kTasks = green_test::kSanitized ? 50 : 500;
  std::atomic<int> right{0};
  green::run(with_pool(2, 4), [&] {
    std::vector<green::JoinHandle<void>> tasks;
    for (int i = 0; i < kTasks; ++i) {
      tasks.push_back(green::spawn([&, i] {
        std::vector<int> v = green::blocking([i] { return std::vector<int>(16, i); });
        if (v.size() == 16 && v[15] == i) ++right;
      }));
    }
    for (auto& t : tasks) t.join();
  });
  EXPECT_EQ(right.load(), kTasks);
}

}  // namespace
