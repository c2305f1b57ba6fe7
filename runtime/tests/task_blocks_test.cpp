// task_blocks_test.cpp: the task arena gives the memory of free blocks back off the
// spawn/finish path, by its trim passes (task_blocks.h): after a burst whole free slabs
// go back to the OS and are reused before new ones are mapped, and while the trimmer
// runs all the time no block is lost, shared or decommitted under a live task. A task's
// closure and result live in its block when they fit, and on the heap when not.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "green/green.h"
#include "scheduler.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using green_test::workers;

constexpr int kScale = green_test::kSanitized ? 10 : 1;

green::detail::TaskArena& arena() { return green::detail::active_scheduler()->arena(); }

// From the root task: `n` tasks alive at once (spawned before any runs, so their blocks
// are all live while they share a few stacks: none yields), each returning a value of
// its own; joins them all in order and returns whether every result was right.
bool burst(int n) {
  std::vector<green::JoinHandle<std::uint64_t>> hs;
  hs.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const std::uint64_t tag = 0x5eed0000u + static_cast<std::uint64_t>(i);
    hs.push_back(green::spawn([tag] { return tag * 3; }));
  }
  bool right = true;
  for (int i = 0; i < n; ++i)
    right &= hs[static_cast<std::size_t>(i)].join() == (0x5eed0000u + static_cast<std::uint64_t>(i)) * 3;
  return right;
}

// After a burst of 100k live blocks (27 MB), the trimmer hands their slabs back: all but
// the few pinned by the root's block and the worker's cache, and resident memory falls
// with them; a second burst reuses the cold slabs instead of mapping new ones.
TEST(TaskBlocks, FreeSlabsGoBackAfterABurstAndAreReused) {
  constexpr std::uint64_t kSlab = green::detail::TaskArena::kBlocksPerSlab;
  const int n = 100'000 / kScale;
  green::Config c = workers(1);
  c.pool_keep_stacks = 0;
  c.pool_trim_interval = 5ms;
  long rss_before = 0, rss_at_peak = 0, rss_after = 0;
  std::uint64_t carved_first = 0, decommitted_first = 0;
  auto report = green::run(c, [&] {
    rss_before = green_test::rss_kib();
    EXPECT_TRUE(burst(n));
    rss_at_peak = green_test::rss_kib();  // the blocks are free now, but still committed
    carved_first = arena().carved();
    EXPECT_GE(carved_first, static_cast<std::uint64_t>(n));
    // Pinned: the root's slab, and up to two batches in the worker's cache (two slabs).
    EXPECT_TRUE(green_test::wait_until([&] { return arena().decommitted() >= carved_first - 3 * kSlab; },
                                       [] { green::this_task::sleep_for(1ms); }))
        << "decommitted " << arena().decommitted() << " of " << carved_first;
    decommitted_first = arena().decommitted();
    rss_after = green_test::rss_kib();
    EXPECT_TRUE(burst(n)) << "a block of a decommitted slab was reused wrongly";
    EXPECT_EQ(arena().carved(), carved_first) << "cold slabs are reused before new ones are mapped";
  });
  EXPECT_EQ(report.task_blocks_carved, carved_first);
  EXPECT_GE(report.task_blocks_decommitted, decommitted_first);
  EXPECT_EQ(report.tasks_abandoned, 0u);
  // (Not under the sanitizers: their shadow memory changes RSS.)
  if (!green_test::kSanitized) {
    EXPECT_LT(rss_after - rss_before, (rss_at_peak - rss_before) / 2)
        << "RSS before " << rss_before << " KiB, after the burst " << rss_at_peak << ", after trimming "
        << rss_after;
  }
}

// With nothing kept and a pass every millisecond, two workers and a plain thread spawn
// and finish tasks in rounds (blocks move between caches, batches, the plain threads'
// loose list, trim passes and cold slabs all the time). Each task checks its own
// closure after switching, so a block decommitted or handed out twice while live fails
// the check; every task must finish exactly once. A last burst then frees whole slabs.
TEST(TaskBlocks, NoBlockIsLostOrSharedWhileTheTrimmerRuns) {
  green::Config c = workers(2);
  c.pool_keep_stacks = 0;
  c.pool_trim_interval = 1ms;
  const int rounds = green_test::kSanitized ? 4 : 20;
  // Four slabs a round outside the sanitizers (under TSan each stack the trimmer took
  // back costs a new TSan fiber, ~6 ms, when reused).
  const int per_round = 3000 / kScale;
  std::atomic<int> corrupted{0}, finished{0};
  auto task = [&corrupted, &finished](std::uint64_t tag) {
    return [&corrupted, &finished, tag, copy = ~tag] {
      for (int k = 0; k < 3; ++k) green::this_task::yield();
      if (copy != ~tag) ++corrupted;
      finished.fetch_add(1, std::memory_order_relaxed);
      return tag;
    };
  };
  auto report = green::run(c, [&] {
    for (int r = 0; r < rounds; ++r) {
      std::vector<green::JoinHandle<std::uint64_t>> hs;
      std::vector<green::JoinHandle<std::uint64_t>> foreign(static_cast<std::size_t>(per_round / 4));
      std::thread plain([&] {
        for (std::size_t i = 0; i < foreign.size(); ++i) foreign[i] = green::spawn(task(1'000'000 + i));
      });
      for (int i = 0; i < per_round; ++i) hs.push_back(green::spawn(task(static_cast<std::uint64_t>(i))));
      plain.join();
      for (int i = 0; i < per_round; ++i)
        if (hs[static_cast<std::size_t>(i)].join() != static_cast<std::uint64_t>(i)) ++corrupted;
      for (std::size_t i = 0; i < foreign.size(); ++i)
        if (foreign[i].join() != 1'000'000 + i) ++corrupted;
      green::this_task::sleep_for(2ms);  // passes meet the next round's spawns
    }
    // The rounds' blocks have mixed across slabs, and the root's block and the caches'
    // may pin every one. A burst joined in order from here frees whole fresh slabs.
    EXPECT_TRUE(burst(20'000));
    EXPECT_TRUE(green_test::wait_until([] { return arena().decommitted() > 0; },
                                       [] { green::this_task::sleep_for(1ms); }))
        << "the trimmer never gave a slab back";
  });
  EXPECT_EQ(corrupted.load(), 0);
  EXPECT_EQ(finished.load(), rounds * (per_round + per_round / 4));
  EXPECT_EQ(report.tasks_abandoned, 0u);
  EXPECT_GT(report.task_blocks_decommitted, 0u);
  // A round has 3,750 blocks alive at most (four slabs), the last burst 20,000 (20):
  // rounds reuse blocks and cold slabs instead of mapping more.
  EXPECT_LE(report.task_blocks_carved, 32u * green::detail::TaskArena::kBlocksPerSlab) << "blocks leaked";
}

// A task that returns nothing, with a closure of five words, as skynet's.
struct FiveWords {
  std::uint64_t* out;
  std::uint64_t a, b, c, d;
  void operator()() const { *out = a + b + c + d; }
};
// Outside the sanitizers (whose context fields make the Task larger) it stays in the block.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
static_assert(green::detail::TaskImpl<FiveWords, void>::kInline,
              "a five-word closure (skynet's) no longer fits a task block: a spawn would allocate");
#endif

// 320 bytes in and out, more than a block: closure and result are boxed.
using Big = std::array<std::uint64_t, 40>;
struct AddToBig {
  Big in;
  std::uint64_t k;
  Big operator()() const {
    green::this_task::yield();
    Big out = in;
    for (auto& v : out) v += k;
    return out;
  }
};
static_assert(!green::detail::TaskImpl<AddToBig, Big>::kInline);

// Closures and results, in the block or boxed, reach the task and the joiner whole.
TEST(TaskBlocks, ClosuresAndResultsReachTaskAndJoinerWholeInlineOrBoxed) {
  green::run(workers(2), [] {
    Big in{};
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = i * 7 + 1;
    std::vector<green::JoinHandle<Big>> hs;
    for (std::uint64_t k = 0; k < 100; ++k) hs.push_back(green::spawn(AddToBig{in, k}));
    for (std::uint64_t k = 0; k < 100; ++k) {
      const Big out = hs[k].join();
      for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], i * 7 + 1 + k);
    }
    std::uint64_t sum = 0;
    green::spawn(FiveWords{&sum, 1, 2, 3, 4}).join();
    EXPECT_EQ(sum, 10u);
  });
}

}  // namespace
