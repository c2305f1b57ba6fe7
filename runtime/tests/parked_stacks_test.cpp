// parked_stacks_test.cpp: stacks that shrink (src/parked_stacks.h). A task that went deep
// and parked shallow loses the pages below its saved stack pointer after two trimmer
// passes, keeps its live frames, and gets zeroed pages back when it goes deep again; a
// wake that lands while a pass holds the task is neither lost nor doubled; a joiner the
// pass resumes returns only once its joinee is done; a run ends cleanly with a pass in
// the middle of releasing a task's pages.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "green/green.h"
#include "scheduler.h"
#include "test_support.h"

namespace {

using green_test::workers;

// Writes `depth` + 1 frames of 1 KiB, each filled with a byte of its own, and checks each
// on the way back: returns how many frames held their byte (depth + 1 when all did).
int deep(int depth) {
  volatile unsigned char frame[1024];
  const auto mine = static_cast<unsigned char>(depth * 7 + 1);
  for (auto& b : frame) b = mine;
  const int below = depth > 0 ? deep(depth - 1) : 0;
  for (auto& b : frame) {
    if (b != mine) return below;
  }
  return below + 1;
}

std::size_t resident_pages(const char* lo, const char* hi) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in((hi - lo) / page);
  if (::mincore(const_cast<char*>(lo), hi - lo, in.data()) != 0) return SIZE_MAX;
  std::size_t n = 0;
  for (unsigned char r : in) n += r & 1;
  return n;
}

green::detail::ParkedStackTrimmer& trimmer() { return green::detail::active_scheduler()->parked_stacks(); }

// Where the task that calls it runs: its stack range.
struct StackRange {
  const char* base = nullptr;
  std::size_t size = 0;
};
StackRange my_stack() {
  green::detail::Task* self = green::detail::current_task();
  return {static_cast<const char*>(self->stack.base), self->stack.size};
}

// One worker, no trimmer thread: the test makes the passes itself.
green::Config passes_by_hand() {
  green::Config c = workers(1);
  c.stack_size = 256 * 1024;  // room for deep(64)
  c.pool_trim_interval = std::chrono::milliseconds(0);
  return c;
}

TEST(ParkedStacks, ADeepStackParkedShallowGoesBackAndComesBackZeroed) {
  if (!green::detail::can_shrink_parked_stacks()) GTEST_SKIP() << "membarrier(2) refused: no shrinking here";
  auto report = green::run(passes_by_hand(), [] {
    green::WaitGroup parked(1), release(1);
    StackRange stack;
    int first = 0, second = 0;
    bool frames_kept = true;
    auto h = green::spawn([&] {
      stack = my_stack();
      first = deep(64);
      volatile std::uint64_t live[512];  // a live frame of 4 KiB, kept while parked
      for (std::size_t i = 0; i < 512; ++i) live[i] = i * 0x9E3779B97F4A7C15ull;
      parked.done();
      release.wait();
      for (std::size_t i = 0; i < 512; ++i) frames_kept &= live[i] == i * 0x9E3779B97F4A7C15ull;
      second = deep(64);
    });
    parked.wait();
    // Far below where the task parked (its shallow frames take the top few KiB) and
    // within the 65 KiB it touched.
    const char* lo = stack.base;
    const char* hi = stack.base + stack.size - 32 * 1024;
    // (Under ASan the frames may live on its fake stack instead.)
    if (!green_test::kSanitized) {
      EXPECT_GE(resident_pages(lo, hi), 8u);
    }

    trimmer().pass();  // parked -> parked_old: kept for now
    EXPECT_EQ(trimmer().stacks_trimmed(), 0u);
    trimmer().pass();  // parked across a whole pass: released
    EXPECT_EQ(resident_pages(lo, hi), 0u);
    if (!green_test::kSanitized) {
      EXPECT_EQ(trimmer().stacks_trimmed(), 1u);
      EXPECT_GE(trimmer().bytes_released(), 8u * 4096);
    }
    const std::uint64_t trimmed = trimmer().stacks_trimmed();
    trimmer().pass();  // released once per park episode
    EXPECT_EQ(trimmer().stacks_trimmed(), trimmed);

    release.done();
    h.join();
    EXPECT_TRUE(frames_kept) << "a live frame above the saved stack pointer changed";
    EXPECT_EQ(first, 65);
    EXPECT_EQ(second, 65) << "frames written after the pages came back did not hold";
  });
  if (!green_test::kSanitized) {
    EXPECT_EQ(report.parked_stacks_trimmed, 1u);
  }
}

TEST(ParkedStacks, AShallowParkedTaskCostsNoMadvise) {
  auto report = green::run(passes_by_hand(), [] {
    green::WaitGroup parked(1), release(1);
    auto h = green::spawn([&] {
      parked.done();
      release.wait();
    });
    parked.wait();
    for (int i = 0; i < 3; ++i) trimmer().pass();
    release.done();
    h.join();
  });
  EXPECT_EQ(report.parked_stacks_trimmed, 0u);
  EXPECT_EQ(report.parked_bytes_released, 0u);
}

green_test::HookGate g_trimming_gate;
void hold_trimming() { g_trimming_gate.pass(); }

// The window of the protocol, held open: a pass holds a parked task (kHeld) when a
// waker wakes it. The waker must not enqueue it; the pass does, once.
TEST(ParkedStacks, AWakeDuringTrimmingIsLeftToThePass) {
  if (!green::detail::can_shrink_parked_stacks()) GTEST_SKIP() << "membarrier(2) refused: no shrinking here";
  green_test::ScopedHook hook(green::detail::test_hooks::parked_stack_trimming, &hold_trimming);
  auto report = green::run(passes_by_hand(), [] {
    green::WaitGroup parked(1), release(1);
    std::atomic<int> resumed{0};
    auto h = green::spawn([&] {
      deep(64);
      parked.done();
      release.wait();
      ++resumed;
    });
    parked.wait();
    auto* sched = green::detail::active_scheduler();
    g_trimming_gate.arm();
    std::thread passer([sched] {
      sched->parked_stacks().pass();
      sched->parked_stacks().pass();  // holds the task, then waits at the gate
    });
    EXPECT_TRUE(green_test::wait_in_task([] { return g_trimming_gate.holding(); }));
    release.done();  // the wake: the task is the pass's now
    // The root parks in turn: the worker would run the task now if it had been queued.
    for (int i = 0; i < 3; ++i) green::this_task::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(resumed.load(), 0) << "a task held by a pass was run";
    g_trimming_gate.open();
    passer.join();
    h.join();  // the pass queued it
    EXPECT_EQ(resumed.load(), 1);
  });
  EXPECT_EQ(report.tasks_abandoned, 0u);
}

// A joiner that a pass holds when its joinee finishes is made runnable by the pass,
// which can happen before the joinee's worker has stored kDone: join() must not return
// (and its handle free the joinee's block) before then. The finishing task is held just
// after it handed the wake-up on, until the pass has queued the joiner and the joiner
// has had ample time to run. Before join_task waited for kDone, the joiner returned here,
// and the block it freed was reused while its release was still to run (a crash in the
// racing test below, about once in 30 runs on 2 cores).
std::atomic<bool> g_pass_done{false}, g_joined{false}, g_joined_early{false};
void let_the_joiner_run() {
  g_trimming_gate.open();  // the pass goes on: it queues the joiner
  green_test::wait_on_thread([] { return g_pass_done.load(); });
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (!g_joined.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  g_joined_early = g_joined.load();
}

TEST(ParkedStacks, AJoinerAPassResumesReturnsOnlyOnceTheJoineeIsDone) {
  if (!green::detail::can_shrink_parked_stacks()) GTEST_SKIP() << "membarrier(2) refused: no shrinking here";
  green_test::ScopedHook trimming(green::detail::test_hooks::parked_stack_trimming, &hold_trimming);
  green_test::ScopedHook handed_on(green::detail::test_hooks::joiner_handed_on, &let_the_joiner_run);
  g_pass_done = false;
  g_joined = false;
  g_joined_early = false;
  green::Config c = passes_by_hand();
  c.workers = 2;
  int got = 0;
  auto report = green::run(c, [&] {
    std::atomic<green::detail::Task*> joiner_task{nullptr};
    std::atomic<bool> finish{false};
    // The root never parks until the end (a parked root could be the task the pass
    // holds); the joiner runs on the other worker, its child computes there.
    auto joiner = green::spawn([&] {
      joiner_task = green::detail::current_task();
      auto child = green::spawn([&] {
        green_test::spin_until([&] { return finish.load(); });
        return 7;
      });
      got = child.join();
      g_joined = true;
    });
    ASSERT_TRUE(green_test::spin_until([&] {
      green::detail::Task* t = joiner_task.load();
      return t && green::detail::TaskArena::block_of(t)->state.load() == green::detail::kParked;
    }));
    trimmer().pass();  // the joiner: parked -> parked_old
    g_trimming_gate.arm();
    std::thread passer([] {
      trimmer().pass();  // holds the joiner, and waits at the gate
      g_pass_done = true;
    });
    EXPECT_TRUE(green_test::spin_until([] { return g_trimming_gate.holding(); }));
    finish = true;  // the child ends, and hands the joiner's wake-up on to the pass
    joiner.join();
    passer.join();
  });
  EXPECT_FALSE(g_joined_early) << "join() returned before the joinee was done";
  EXPECT_EQ(got, 7);
  EXPECT_EQ(report.tasks_abandoned, 0u);
}

// Many tasks go deep, then park and are woken every way there is (channels, timers,
// blocking calls from helper threads, joins, whose direct resume the finishing task
// claims), while a plain thread makes passes back to back besides the trimmer thread's:
// wakes land in every state, held included. Every task must finish, once, with
// every frame intact: a lost wake hangs a pair, a doubled one runs a task twice at once.
TEST(ParkedStacks, WakesRacingTrimPassesAreNeitherLostNorDoubled) {
  if (!green::detail::can_shrink_parked_stacks()) GTEST_SKIP() << "membarrier(2) refused: no shrinking here";
  green::Config c = workers(2);
  c.pool_trim_interval = std::chrono::milliseconds(1);
  const int pairs = green_test::kSanitized ? 8 : 32;
  const int rounds = green_test::kSanitized ? 30 : 150;
  std::atomic<int> finished{0}, bad{0};
  auto report = green::run(c, [&] {
    std::atomic<bool> stop{false};
    std::thread passer([&] {
      while (!stop.load()) trimmer().pass();
    });
    auto body = [&](green::Channel<int>& in, green::Channel<int>& out, bool starts) {
      for (int r = 0; r < rounds; ++r) {
        const int depth = 8 + r % 24;
        if (deep(depth) != depth + 1) ++bad;
        if (starts) {
          out.send(r);
          if (in.recv() != r) ++bad;
        } else {
          if (in.recv() != r) ++bad;
          out.send(r);
        }
        switch (r % 3) {
          case 0:
            green::this_task::sleep_for(std::chrono::microseconds(20));
            break;
          case 1:
            if (green::blocking([r] { return r; }) != r) ++bad;
            break;
          default:
            if (green::spawn([r] { return deep(16) + r; }).join() != 17 + r) ++bad;
        }
      }
      ++finished;
    };
    std::vector<std::unique_ptr<green::Channel<int>>> channels;
    std::vector<green::JoinHandle<void>> hs;
    for (int p = 0; p < pairs; ++p) {
      auto& ab = *channels.emplace_back(std::make_unique<green::Channel<int>>());
      auto& ba = *channels.emplace_back(std::make_unique<green::Channel<int>>());
      hs.push_back(green::spawn([&] { body(ba, ab, true); }));
      hs.push_back(green::spawn([&] { body(ab, ba, false); }));
    }
    const bool all =
        green_test::wait_until([&] { return finished.load() == 2 * pairs; },
                               [] { green::this_task::sleep_for(std::chrono::milliseconds(1)); });
    stop = true;
    passer.join();
    EXPECT_TRUE(all) << finished.load() << " of " << 2 * pairs << " tasks finished: a wake was lost";
    if (all) {
      for (auto& h : hs) h.join();
    }
  });
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(finished.load(), 2 * pairs);
  EXPECT_EQ(report.tasks_abandoned, 0u);
}

// The root returns while the trimmer thread is in the middle of releasing a parked task's
// pages (held there by the hook): run() waits for the pass, then frees everything; the
// task, parked for ever, is abandoned with its stack.
TEST(ParkedStacks, ARunEndsCleanlyWithATaskInTrimming) {
  if (!green::detail::can_shrink_parked_stacks()) GTEST_SKIP() << "membarrier(2) refused: no shrinking here";
  green_test::ScopedHook hook(green::detail::test_hooks::parked_stack_trimming, &hold_trimming);
  green::Config c = workers(2);
  c.stack_size = 256 * 1024;  // room for deep(64)
  c.pool_trim_interval = std::chrono::milliseconds(1);
  std::thread opener;
  auto report = green::run(c, [&] {
    green::WaitGroup parked(1), never(1);
    green::go([&] {
      deep(64);
      parked.done();
      never.wait();
    });
    parked.wait();
    g_trimming_gate.arm();
    EXPECT_TRUE(green_test::wait_in_task([] { return g_trimming_gate.holding(); }));
    // Opens the gate once the run is ending: run() then waits for the pass.
    opener = std::thread([] {
      green_test::wait_on_thread([] {
        auto* s = green::detail::active_scheduler();
        return s && s->stopping();
      });
      g_trimming_gate.open();
    });
  });
  opener.join();
  EXPECT_EQ(report.tasks_abandoned, 1u);
  EXPECT_EQ(report.stacks_in_use_at_exit, 1u);
}

}  // namespace
