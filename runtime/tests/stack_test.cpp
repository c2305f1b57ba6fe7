// stack_test.cpp: stacks are reused and none leak; free stacks go back to the OS only off
// the spawn/finish path, by the trim policy (stack_pool.h), with none lost or shared; a
// parked fiber commits only what it touched; an overflow hits the guard.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "green/green.h"
#include "scheduler.h"
#include "test_support.h"

namespace {

using green_test::workers;

TEST(Stacks, AreReusedAndNoneLeak) {
  auto report = green::run(workers(1), [] {
    for (int i = 0; i < 10'000; ++i) green::spawn([] {}).join();
  });
  EXPECT_EQ(report.stack_allocations, 10'000u + 1);
  EXPECT_LE(report.stacks_mapped, 128u) << "sequential spawn/join must reuse stacks";
  EXPECT_EQ(report.stacks_in_use_at_exit, 0u);
}

green::detail::StackStats pool_stats() { return green::detail::active_scheduler()->stack_pool().stats(); }

// From the root task: `n` tasks each hold a stack at once, then all finish. Tasks
// spawned here start on this worker, so their stacks come back to its pool.
void burst(int n) {
  std::vector<green::JoinHandle<void>> hs;
  green::WaitGroup gate(1), parked(n);
  for (int i = 0; i < n; ++i)
    hs.push_back(green::spawn([&] {
      parked.done();
      gate.wait();
    }));
  parked.wait();
  gate.done();
  for (auto& h : hs) h.join();
}

// Under the sanitizers 400 tasks, not 2,000: each fresh stack costs TSan a fiber of its
// own (~6 ms, more under load).
const int kBurst = green_test::kSanitized ? 400 : 2000;

// The trim policy, pass by pass (no trimmer thread: the test makes the passes): nothing
// goes back on the spawn/finish path; a pass returns only what went untaken since the
// previous one, and always keeps the pool's mark.
TEST(Stacks, TrimPassReturnsOnlyWhatWentUntakenSinceThePreviousOne) {
  green::Config c = workers(1);
  c.pool_keep_stacks = 16;
  c.pool_trim_interval = std::chrono::milliseconds(0);
  auto report = green::run(c, [] {
    auto& pool = green::detail::active_scheduler()->stack_pool();
    burst(kBurst);
    green::detail::StackStats after_burst = pool_stats();
    EXPECT_GE(after_burst.peak_in_use, static_cast<std::uint64_t>(kBurst));
    EXPECT_EQ(after_burst.decommitted, 0u) << "memory went back on the spawn/finish path";
    EXPECT_GT(after_burst.hot, static_cast<std::uint64_t>(kBurst) / 2);
    // Every hot stack was taken since the run began: the first pass keeps them all.
    EXPECT_EQ(pool.trim_unused(), 0u);
    // None taken since: the second returns all but the 16 kept.
    const std::size_t returned = pool.trim_unused();
    green::detail::StackStats s = pool_stats();
    EXPECT_EQ(returned, after_burst.hot - 16);
    EXPECT_EQ(s.hot, 16u);
    EXPECT_EQ(s.cold, returned);
    EXPECT_EQ(s.decommitted, returned);
    // A smaller burst takes stacks again (the 16 hot first, then cold ones, which fault
    // in again); the pass after it keeps what it used, the next one returns it.
    burst(kBurst / 4);
    EXPECT_EQ(pool.trim_unused(), 0u);
    const std::uint64_t hot_after_small = pool_stats().hot;
    EXPECT_GT(hot_after_small, 16u);
    EXPECT_EQ(pool.trim_unused(), hot_after_small - 16);
    EXPECT_EQ(pool_stats().hot, 16u);
  });
  EXPECT_EQ(report.stacks_in_use_at_exit, 0u);
  EXPECT_EQ(report.stack_trim_passes, 0u) << "no trimmer thread when the interval is zero";
}

// The paced trimmer thread: after a burst, with nothing else happening, the pool comes
// back to its mark on its own. (Waits for the condition, never for a fixed time.)
TEST(Stacks, TrimmerReturnsABurstsStacksOnItsOwn) {
  green::Config c = workers(2);
  c.pool_keep_stacks = 16;
  c.pool_trim_interval = std::chrono::milliseconds(5);
  long rss_before = 0, rss_at_peak = 0, rss_after = 0;
  auto report = green::run(c, [&] {
    rss_before = green_test::rss_kib();
    burst(kBurst);
    rss_at_peak = green_test::rss_kib();  // the burst's stacks are free now, but still committed
    const std::uint64_t peak = pool_stats().peak_in_use;
    EXPECT_GE(peak, static_cast<std::uint64_t>(kBurst));
    // The workers' caches keep up to 64 stacks each out of the pool: those stay.
    const bool trimmed = green_test::wait_until(
        [] {
          green::detail::StackStats s = pool_stats();
          return s.hot <= 16 && s.trimming == 0;  // the pass's madvise done too
        },
        [] { green::this_task::sleep_for(std::chrono::milliseconds(1)); });
    EXPECT_TRUE(trimmed) << "hot stacks left: " << pool_stats().hot;
    EXPECT_GE(pool_stats().decommitted, peak - 16 - 2 * 64);
    rss_after = green_test::rss_kib();
  });
  // The memory itself went back. (Not under the sanitizers: their shadow memory and
  // fake stacks change RSS.)
  if (!green_test::kSanitized) {
    EXPECT_LT(rss_after - rss_before, (rss_at_peak - rss_before) / 2)
        << "RSS before " << rss_before << " KiB, after the burst " << rss_at_peak << ", after trimming "
        << rss_after;
  }
  EXPECT_GE(report.stack_trim_passes, 2u);
  EXPECT_EQ(report.stacks_in_use_at_exit, 0u);
}

// Repeated bursts on two workers while the trimmer runs every millisecond, keeping
// none: stacks move between use, the caches, hot, trimming and cold all the time. Each
// task fills three pages of its stack with its own id and checks them after yielding (a
// stack given to two tasks at once, or decommitted under a task, fails the check), and a
// plain thread checks the pool's books (mapped == hot + cold + trimming + in use)
// meanwhile.
TEST(Stacks, NoStackIsLostOrSharedWhileTheTrimmerRuns) {
  green::Config c = workers(2);
  c.pool_keep_stacks = 0;
  c.pool_trim_interval = std::chrono::milliseconds(1);
  const int rounds = green_test::kSanitized ? 4 : 20;
  const int per_round = green_test::kSanitized ? 100 : 500;
  std::atomic<int> corrupted{0}, unbalanced{0};
  auto report = green::run(c, [&] {
    std::atomic<bool> done{false};
    std::thread auditor([&] {
      while (!done.load()) {
        if (auto* s = green::detail::active_scheduler()) {
          green::detail::StackStats st = s->stack_pool().stats();
          if (st.mapped != st.hot + st.cold + st.trimming + st.in_use) ++unbalanced;
        }
        std::this_thread::yield();
      }
    });
    for (int r = 0; r < rounds; ++r) {
      std::vector<green::JoinHandle<void>> hs;
      for (int i = 0; i < per_round; ++i) {
        hs.push_back(green::spawn([&corrupted] {
          volatile std::uint64_t frame[3 * 4096 / sizeof(std::uint64_t)];
          const std::uint64_t me = green::this_task::id();
          for (auto& word : frame) word = me;
          for (int k = 0; k < 3; ++k) green::this_task::yield();
          for (auto& word : frame) {
            if (word != me) {
              ++corrupted;
              break;
            }
          }
        }));
      }
      for (auto& h : hs) h.join();
      // Let the trimmer catch up (no free stack committed) before the next round takes
      // cold stacks back.
      EXPECT_TRUE(green_test::wait_until(
          [] {
            green::detail::StackStats s = pool_stats();
            return s.hot == 0 && s.trimming == 0;
          },
          [] { green::this_task::sleep_for(std::chrono::milliseconds(1)); }));
    }
    done = true;
    auditor.join();
  });
  EXPECT_EQ(corrupted.load(), 0);
  EXPECT_EQ(unbalanced.load(), 0);
  EXPECT_EQ(report.stacks_in_use_at_exit, 0u);
  EXPECT_GT(report.stacks_decommitted, 0u);
  EXPECT_GT(report.stack_allocations, report.stacks_mapped) << "stacks were reused, cold ones included";
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)

// Lazily committed stacks: 20k parked fibers with 1 MiB stacks must not commit 20 GiB.
// (Left out of sanitizer builds: ASan's shadow memory and fake stacks change RSS.)
TEST(Stacks, ParkedFibersCommitOnlyTouchedPages) {
  green::Config c = workers(1);
  c.stack_size = 1 << 20;
  long delta_kib = 0;
  green::run(c, [&] {
    const int n = 20'000;
    green::WaitGroup gate(1), parked;
    parked.add(n);
    long before = green_test::rss_kib();
    for (int i = 0; i < n; ++i)
      green::go([&] {
        parked.done();
        gate.wait();
      });
    parked.wait();
    delta_kib = green_test::rss_kib() - before;
    gate.done();
  });
  EXPECT_LT(delta_kib, 20'000L * 16) << "more than 16 KiB resident per parked fiber";
}
#endif

// Recurses until `depth` frames of 1 KiB: far past any test stack.
int recurse(volatile char* prev, int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (prev) frame[1] = prev[0];
  return depth == 0 ? frame[0] : recurse(frame, depth - 1) + frame[1];
}

TEST(StacksDeathTest, OverflowIsCaughtByTheGuardPage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  green::Config c = workers(1);
  c.stack_size = 64 * 1024;
  EXPECT_DEATH(green::run(c, [] { green::spawn([] { recurse(nullptr, 1 << 20); }).join(); }),
               "stack overflow in task #[0-9]+");
}

}  // namespace
