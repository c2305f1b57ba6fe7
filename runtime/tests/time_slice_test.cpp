// time_slice_test.cpp: green::this_task::maybe_yield(): it yields once the task has run
// for Config::time_slice and never before, and a task that computes while calling it
// lets a sleeping task run on the same (only) worker.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "green/green.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using green_test::workers;

green::Config with_slice(std::chrono::nanoseconds slice) {
  green::Config c = workers(1);
  c.time_slice = slice;
  return c;
}

// The spinner calls maybe_yield until the other task has run: it must have yielded, and
// not before a slice had passed since its first check.
TEST(MaybeYield, YieldsOnceTheSliceIsSpentNeverBefore) {
  constexpr auto kSlice = 20ms;
  std::atomic<bool> other_ran{false};
  Clock::time_point first_check, other_ran_at;
  green::run(with_slice(kSlice), [&] {
    auto other = green::spawn([&] {
      other_ran_at = Clock::now();
      other_ran = true;
    });
    first_check = Clock::now();
    EXPECT_TRUE(green_test::spin_until([&] {
      green::this_task::maybe_yield();
      return other_ran.load();
    }));
    other.join();
  });
  // The slice's clock is calibrated against steady_clock: allow it 5% of error.
  EXPECT_GE(other_ran_at - first_check, kSlice * 95 / 100);
}

// With a slice no run lasts, maybe_yield never yields, however often it is called.
TEST(MaybeYield, DoesNotYieldWithinTheSlice) {
  std::atomic<bool> other_ran{false};
  bool ran_before_spinner_ended = true;
  green::run(with_slice(std::chrono::hours(1)), [&] {
    auto other = green::spawn([&] { other_ran = true; });
    for (int i = 0; i < 100'000; ++i) green::this_task::maybe_yield();
    ran_before_spinner_ended = other_ran.load();
    other.join();
  });
  EXPECT_FALSE(ran_before_spinner_ended);
}

// One worker: a hog that computes until the ticker has ticked enough, calling
// maybe_yield, lets the ticker's sleeps end. Without the call it would wait forever.
TEST(MaybeYield, AHogCallingItLetsASleeperRunOnOneWorker) {
  constexpr int kTicks = 5;
  std::atomic<int> ticks{0};
  green::run(workers(1), [&] {
    auto ticker = green::spawn([&] {
      for (int i = 0; i < kTicks; ++i) {
        green::this_task::sleep_for(1ms);
        ++ticks;
      }
    });
    auto hog = green::spawn([&] {
      EXPECT_TRUE(green_test::spin_until([&] {
        green::this_task::maybe_yield();
        return ticks.load() == kTicks;
      }));
    });
    hog.join();
    ticker.join();
  });
  EXPECT_EQ(ticks.load(), kTicks);
}

TEST(MaybeYield, OutsideATaskDoesNothing) { green::this_task::maybe_yield(); }

}  // namespace
