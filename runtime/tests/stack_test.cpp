// stack_test.cpp: stacks are reused and none leak, memory goes back above the pool's
// mark, a parked fiber commits only what it touched, and an overflow hits the guard.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "green/green.h"
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

// Under the sanitizers 400 tasks, not 1,000: each fresh stack costs TSan a fiber of its
// own (~6 ms, more under load), and 400 still trims past the 16 + 256 kept hot.
TEST(Stacks, PoolHandsMemoryBackAboveItsMark) {
  const int n = green_test::kSanitized ? 400 : 1000;
  green::Config c = workers(1);
  c.pool_keep_stacks = 16;
  auto report = green::run(c, [n] {
    std::vector<green::JoinHandle<void>> hs;
    green::WaitGroup gate(1), parked(n);
    for (int i = 0; i < n; ++i)
      hs.push_back(green::spawn([&] {
        parked.done();
        gate.wait();
      }));
    parked.wait();  // all n hold a stack at once
    gate.done();
    for (auto& h : hs) h.join();
  });
  EXPECT_GE(report.stacks_peak_in_use, static_cast<std::uint64_t>(n));
  // The pool keeps 16, trims in batches of 256 above that: at most 16 + 256 stay hot.
  EXPECT_GE(report.stacks_decommitted, static_cast<std::uint64_t>(n) - 16 - 256);
  EXPECT_EQ(report.stacks_in_use_at_exit, 0u);
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

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
    long before = rss_kib();
    for (int i = 0; i < n; ++i) green::go([&] {
      parked.done();
      gate.wait();
    });
    parked.wait();
    delta_kib = rss_kib() - before;
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
