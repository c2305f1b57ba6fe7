// scheduler_test.cpp: spawn, join, yield, sleep, shutdown and work stealing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "green/green.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;

using green_test::workers;

// Sanitizer builds run this at a tenth of the size: same logic, bounded time.
constexpr int kScale = green_test::kSanitized ? 10 : 1;

TEST(Scheduler, RunsTheRootTaskAndReturnsItsReport) {
  bool ran = false;
  auto report = green::run(workers(1), [&] {
    ran = true;
    EXPECT_NE(green::this_task::id(), 0u);
    EXPECT_EQ(green::this_task::worker_index(), 0);
  });
  EXPECT_TRUE(ran);
  EXPECT_EQ(report.workers, 1u);
  EXPECT_EQ(report.tasks_abandoned, 0u);
}

TEST(Scheduler, JoinReturnsTheResult) {
  green::run(workers(2), [] {
    auto h = green::spawn([] { return 42; });
    EXPECT_EQ(h.join(), 42);
  });
}

TEST(Scheduler, JoinRethrowsTheTaskException) {
  green::run(workers(1), [] {
    auto h = green::spawn([]() -> int { throw std::runtime_error("boom"); });
    EXPECT_THROW(h.join(), std::runtime_error);
  });
}

TEST(Scheduler, RootExceptionPropagatesFromRun) {
  EXPECT_THROW(green::run(workers(1), [] { throw std::logic_error("root"); }), std::logic_error);
}

TEST(SchedulerDeathTest, DetachedTaskExceptionEndsTheProcessNamingTheTask) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(green::run(workers(1),
                          [] {
                            green::go([] { throw std::runtime_error("lost"); });
                            green::this_task::sleep_for(10ms);
                          }),
               "task #[0-9]+ ended with an uncaught exception.*lost");
}

TEST(Scheduler, TaskIdsAreUnique) {
  green::run(workers(2), [] {
    std::vector<green::JoinHandle<green::TaskId>> hs;
    for (int i = 0; i < 1000; ++i) hs.push_back(green::spawn([] { return green::this_task::id(); }));
    std::set<green::TaskId> ids;
    for (auto& h : hs) ids.insert(h.join());
    EXPECT_EQ(ids.size(), 1000u);
  });
}

// Spawn/join of a million fibers, a thousand at a time, on one worker and on two. On one
// worker nearly every task runs on the same pooled stack, one after another (under TSan
// that overran the stack's TSan fiber once: context.h, make_context).
TEST(Scheduler, SpawnJoinAMillionFibers) {
  const int total = 1'000'000 / kScale;
  for (unsigned n_workers : {1u, 2u}) {
    SCOPED_TRACE(n_workers);
    std::atomic<int> ran{0};
    auto report = green::run(workers(n_workers), [&] {
      std::vector<green::JoinHandle<int>> hs;
      hs.reserve(1000);
      for (int done = 0; done < total; done += 1000) {
        for (int i = 0; i < 1000; ++i)
          hs.push_back(green::spawn([&ran, i] {
            ran.fetch_add(1, std::memory_order_relaxed);
            return i;
          }));
        long sum = 0;
        for (auto& h : hs) sum += h.join();
        ASSERT_EQ(sum, 999 * 1000 / 2);
        hs.clear();
      }
    });
    EXPECT_EQ(ran.load(), total);
    EXPECT_EQ(report.tasks_spawned, static_cast<std::uint64_t>(total) + 1);
    EXPECT_EQ(report.tasks_abandoned, 0u);
    EXPECT_EQ(report.stacks_in_use_at_exit, 0u);
  }
}

// Every task runs exactly once while several workers steal from each other: each task
// marks its own slot; a task run twice or lost shows as a count other than 1.
TEST(Scheduler, EveryTaskRunsExactlyOnceUnderStealing) {
  const int n = 200'000 / kScale;
  std::vector<std::atomic<int>> runs(n);
  auto report = green::run(workers(4), [&] {
    green::WaitGroup wg;
    wg.add(n);
    for (int i = 0; i < n; ++i) {
      green::go([&, i] {
        runs[i].fetch_add(1, std::memory_order_relaxed);
        if (i % 7 == 0) green::this_task::yield();
        wg.done();
      });
    }
    wg.wait();
  });
  for (int i = 0; i < n; ++i) ASSERT_EQ(runs[i].load(), 1) << "task " << i;
  EXPECT_GT(report.steals, 0u) << "no stealing happened: the test proves nothing";
}

TEST(Scheduler, YieldInterleavesTasksOnOneWorker) {
  green::run(workers(1), [] {
    std::vector<int> order;
    auto a = green::spawn([&] {
      for (int i = 0; i < 3; ++i) {
        order.push_back(0);
        green::this_task::yield();
      }
    });
    auto b = green::spawn([&] {
      for (int i = 0; i < 3; ++i) {
        order.push_back(1);
        green::this_task::yield();
      }
    });
    a.join();
    b.join();
    // Which starts first is not promised (the later spawn is runnext: worker.h); that
    // each yield hands over to the other is.
    ASSERT_EQ(order.size(), 6u);
    for (std::size_t i = 1; i < order.size(); ++i) EXPECT_NE(order[i], order[i - 1]) << "at " << i;
  });
}

// A spawned task is its worker's runnext; while that worker computes without switching,
// an idle worker takes it once its grace has passed (worker.cpp: kRunnextGraceRounds).
TEST(Scheduler, AnIdleWorkerRunsATaskLeftInABusyWorkersRunnext) {
  green::run(workers(2), [] {
    std::atomic<bool> ran{false};
    auto task = green::spawn([&] { ran = true; });
    // Never switches: the task can only run on the other worker.
    EXPECT_TRUE(green_test::spin_until([&] { return ran.load(); })) << "the runnext task starved";
    task.join();
  });
}

// Two tasks that wake each other in turn run from the top of the run stack, ahead of
// everything else on one worker; every 64th fairness tick moves the stack's bottom to
// the run queue, whose head runs at the next tick (worker.h: kFairnessTick, 61 switches;
// kRunStackBottomTicks), so a task readied before the pair runs within a bounded number
// of their round trips.
TEST(Scheduler, APingPongPairCannotStarveAThirdTaskOnItsWorker) {
  static constexpr int kMaxRoundTrips = 100'000;
  green::run(workers(1), [] {
    std::atomic<bool> third_ran{false};
    int round_trips = 0;
    green::Channel<int> ping, pong;
    auto a = green::spawn([&] {
      // Spawned now it is on top of the run stack; our send below puts `b` above it,
      // and from then on the pair runs on top of it.
      auto third = green::spawn([&] { third_ran = true; });
      while (!third_ran && round_trips < kMaxRoundTrips) {
        ping.send(1);
        pong.recv();
        ++round_trips;
      }
      ping.close();
      third.join();
    });
    auto b = green::spawn([&] {
      while (ping.recv()) pong.send(1);
    });
    a.join();
    b.join();
    EXPECT_TRUE(third_ran);
    // A bound far above the 65 x 61 switches (about 2,000 round trips) that the ticks
    // allow, and far below the 100,000 a starved task would let the pair make.
    EXPECT_LT(round_trips, 10'000) << "the third task waited behind the pair";
  });
}

// On one worker a task that keeps spawning and joining runs its children from the top of
// the run stack, ahead of the run queue; the fairness tick runs the queue's head every
// 61 switches (worker.h: kFairnessTick), so a task that yields is not starved by it.
TEST(Scheduler, ASpawnerCannotStarveAYieldingTaskOnItsWorker) {
  static constexpr int kMaxSpawns = 100'000;
  green::run(workers(1), [] {
    bool stop = false;
    int yields = 0, spawns = 0;
    auto yielder = green::spawn([&] {
      while (!stop) {
        ++yields;
        green::this_task::yield();
      }
    });
    while (yields == 0) green::this_task::yield();  // the yielder is in the run queue now
    auto spawner = green::spawn([&] {
      while (yields < 10 && spawns < kMaxSpawns) {
        green::spawn([&] { ++spawns; }).join();
      }
      stop = true;
    });
    spawner.join();
    yielder.join();
    // Nine more yields take nine ticks: about 550 spawns, each one switch that counts
    // (its join; the child's end resumes the spawner directly). A starved yielder would
    // let the spawner reach its cap.
    EXPECT_GE(yields, 10);
    EXPECT_LT(spawns, 10'000) << "the yielding task waited behind the spawner";
  });
}

// On one worker a spawn tree runs depth-first (the run stack, worker.h): a tree of 10^5
// leaves, ten children a node, each node joining its children in order, holds about
// depth x fan-out stacks at once, not a level of the tree (the FIFO order of runnext held
// more than 1,000 of them).
std::int64_t sum_of_tree(std::int64_t first, std::int64_t size) {
  if (size == 1) return first;
  std::vector<green::JoinHandle<std::int64_t>> children;
  for (int i = 0; i < 10; ++i) {
    children.push_back(green::spawn([=] { return sum_of_tree(first + i * (size / 10), size / 10); }));
  }
  std::int64_t sum = 0;
  for (auto& child : children) sum += child.join();
  return sum;
}

TEST(Scheduler, ASpawnTreeRunsDepthFirstOnOneWorker) {
  const std::int64_t leaves = 100'000 / kScale;
  std::int64_t sum = 0;
  auto report = green::run(workers(1), [&] { sum = sum_of_tree(0, leaves); });
  EXPECT_EQ(sum, leaves * (leaves - 1) / 2);
  EXPECT_LT(report.stacks_peak_in_use, 300u) << "the tree ran breadth-first";
}

// yield returns to its caller by an indirect jump on x86-64 (entry_points.cpp), from
// whichever call site and depth it was called: each task comes back where it called
// it, with the values it kept in registers and on its stack across the call intact,
// and outside a task it returns at once.
int yield_at_depth(int depth, int tag) {
  const double kept = tag * 1.5;  // live across the yield: a callee-saved register or the stack
  const int before = tag * 7 + depth;
  int below = depth > 0 ? yield_at_depth(depth - 1, tag) : 0;
  green::this_task::yield();
  if (depth % 2 == 0) green::this_task::yield();  // a second call site
  EXPECT_EQ(kept, tag * 1.5);
  EXPECT_EQ(before, tag * 7 + depth);
  return below + before;
}

TEST(Scheduler, YieldReturnsToEachCallSiteWithTheCallersValuesIntact) {
  green::this_task::yield();  // outside a task: returns at once
  for (unsigned n : {1u, 2u}) {
    green::run(workers(n), [] {
      std::vector<green::JoinHandle<int>> tasks;
      for (int tag = 0; tag < 8; ++tag)
        tasks.push_back(green::spawn([tag] { return yield_at_depth(tag, tag); }));
      for (int tag = 0; tag < 8; ++tag) {
        int want = 0;
        for (int d = 0; d <= tag; ++d) want += tag * 7 + d;
        EXPECT_EQ(tasks[static_cast<std::size_t>(tag)].join(), want) << "task " << tag;
      }
    });
  }
}

// On one worker a yield that finds a task in the local queue swaps with it in one step
// (worker.h: yield_current), except at the fairness tick: so tasks that keep yielding to
// each other still let, within that bound, a sleeper whose timer is due, a task pushed
// to the global queue by a plain thread, and a pinned task (which yields into its inbox,
// not the run queue) run. No clock bound: only that each of them runs while the pair
// goes on yielding, which without the tick it never would.
TEST(Scheduler, TasksThatKeepYieldingLetTimersTheGlobalQueueAndPinnedTasksRun) {
  static constexpr long kMaxYields = 50'000'000;  // far beyond any tick's bound: a hang guard
  green::run(workers(1), [] {
    std::atomic<int> ran{0};
    long yields = 0;
    auto yielder = [&] {
      while (ran.load() < 3 && yields < kMaxYields) {
        ++yields;
        green::this_task::yield();
      }
    };
    auto a = green::spawn(yielder);
    auto b = green::spawn(yielder);
    auto sleeper = green::spawn([&] {
      green::this_task::sleep_for(1ms);
      ++ran;
    });
    auto pinned = green::spawn_on(0, [&] {
      for (int i = 0; i < 10; ++i) green::this_task::yield();  // each into its inbox
      ++ran;
    });
    std::thread outsider([&] { green::go([&] { ++ran; }); });  // into the global queue
    a.join();
    b.join();
    outsider.join();
    sleeper.join();
    pinned.join();
    EXPECT_EQ(ran.load(), 3);
    EXPECT_LT(yields, kMaxYields) << "the yielding pair starved the others";
  });
}

// On one worker a yield queues its task before it switches (worker.h: yield_current),
// also when the local queue is full and half of it moves to the global queue: with more
// tasks yielding than the queue holds, every yield still resumes its task exactly once.
// (A yield takes one task and queues one, but every 61st switch takes its task from the
// global queue, so the local one grows until it overflows: 30,000 yields make sure.)
TEST(Scheduler, YieldResumesEachTaskOnceWhenTheLocalQueueOverflows) {
  static constexpr int kTasks = 600, kRounds = 50;  // 600 > RunQueue::kCapacity (256)
  green::run(workers(1), [] {
    std::vector<int> resumed(kTasks, 0);
    std::vector<green::JoinHandle<void>> tasks;
    for (int t = 0; t < kTasks; ++t) {
      tasks.push_back(green::spawn([&resumed, t] {
        for (int r = 0; r < kRounds; ++r) {
          green::this_task::yield();
          ++resumed[t];
        }
      }));
    }
    for (auto& h : tasks) h.join();
    EXPECT_EQ(std::count(resumed.begin(), resumed.end(), kRounds), kTasks);
  });
}

// Timers live in per-worker heaps: on one worker they fire in deadline order. Every task
// is asleep before the clock starts, so the order cannot depend on when each one began;
// the deadlines start 200 ms later, so that all six are in the heap before the first is
// due. A task that finds its deadline already past (a machine stalled that long) never
// sleeps and has nothing to order: it is left out, not failed.
TEST(Scheduler, TimersFireInOrderAndNotEarly) {
  green::run(workers(1), [] {
    using Clock = std::chrono::steady_clock;
    std::vector<int> order;
    int late = 0;
    std::vector<green::JoinHandle<void>> hs;
    green::WaitGroup ready(6), gate(1);
    Clock::time_point start;
    for (int ms : {30, 10, 20, 5, 25, 15}) {
      hs.push_back(green::spawn([&, ms] {
        ready.done();
        gate.wait();
        auto deadline = start + std::chrono::milliseconds(ms);
        const bool past = Clock::now() >= deadline;
        green::this_task::sleep_until(deadline);
        EXPECT_GE(Clock::now(), deadline) << "timer fired early";
        if (past) {
          ++late;
        } else {
          order.push_back(ms);
        }
      }));
    }
    ready.wait();
    start = Clock::now() + 200ms;
    gate.done();
    for (auto& h : hs) h.join();
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << ::testing::PrintToString(order);
    EXPECT_LT(late, 6) << "every deadline passed before its task slept: nothing was ordered";
  });
}

// Across workers only "never early" is promised, not order: any worker may fire a timer.
TEST(Scheduler, TimersNeverFireEarlyOnAnyWorker) {
  green::run(workers(2), [] {
    using Clock = std::chrono::steady_clock;
    std::vector<green::JoinHandle<void>> hs;
    for (int i = 0; i < 100; ++i) {
      hs.push_back(green::spawn([i] {
        auto deadline = Clock::now() + std::chrono::microseconds(200 * (i % 25));
        green::this_task::sleep_until(deadline);
        EXPECT_GE(Clock::now(), deadline) << "timer fired early";
      }));
    }
    for (auto& h : hs) h.join();
  });
}

// Holds a worker that has nothing to run before it registers as idle.
green_test::HookGate g_idle_gate;

// A timer lives in the heap of the worker where its task went to sleep; while that
// worker computes, an idle worker must fire it on time (Go's idle Ps run other Ps'
// timers). The other worker is held until then, so it cannot steal the computing task.
// The verdict is an event (the sleep ended while its worker still computed), not a
// duration.
TEST(Scheduler, ASleepEndsOnTimeWhileItsWorkerComputesAndAnotherIsIdle) {
  green_test::ScopedHook hook(green::detail::test_hooks::idle_before_enter, [] { g_idle_gate.pass(); });
  green::run(workers(2), [] {
    ASSERT_TRUE(green_test::hold_the_other_worker(g_idle_gate)) << "no worker went idle";
    std::atomic<bool> woke{false}, woke_while_busy{false};
    auto sleeper = green::spawn([&] {
      // Queued behind us on this worker: it computes once we sleep.
      auto busy = green::spawn([&] {
        g_idle_gate.open();
        woke_while_busy = green_test::spin_until([&] { return woke.load(); });
      });
      green::this_task::sleep_for(5ms);
      woke = true;
      busy.join();
    });
    sleeper.join();
    EXPECT_TRUE(woke_while_busy) << "the sleep waited for its busy worker";
  });
}

TEST(Scheduler, SleepingTasksDoNotBlockTheWorker) {
  green::run(workers(1), [] {
    auto sleeper = green::spawn([] { green::this_task::sleep_for(50ms); });
    int spins = 0;
    auto busy = green::spawn([&] {
      for (; spins < 100; ++spins) green::this_task::yield();
    });
    busy.join();
    EXPECT_EQ(spins, 100);
    sleeper.join();
  });
}

TEST(Scheduler, IdleWorkersSleepWithoutBurningCpu) {
  timespec before{}, after{};
  green::run(workers(2), [&] {
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &before);
    green::this_task::sleep_for(200ms);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &after);
  });
  double cpu = (after.tv_sec - before.tv_sec) + (after.tv_nsec - before.tv_nsec) / 1e9;
  EXPECT_LT(cpu, 0.05) << "idle workers spent " << cpu << " s of CPU in 0.2 s";
}

// Tasks readied one at a time by a worker that never switches can run only on the
// others, which spin, sleep and are woken over and over (the root pauses now and then,
// so that they fall asleep): every task must run, whatever state the others are in when
// it is readied (no lost wake-up).
TEST(Scheduler, TasksReadiedWhileOtherWorkersSpinOrSleepAllRun) {
  const int n = 4'000 / kScale;
  green::run(workers(4), [&] {
    for (int i = 0; i < n; ++i) {
      std::atomic<int> ran{0};
      const int burst = i % 10 == 0 ? 8 : 1;  // now and then several: wakes in a chain
      std::vector<green::JoinHandle<void>> tasks;
      for (int k = 0; k < burst; ++k) tasks.push_back(green::spawn([&] { ran.fetch_add(1); }));
      ASSERT_TRUE(green_test::spin_until([&] { return ran.load() == burst; }))
          << "task " << i << " never ran";
      for (auto& t : tasks) t.join();
      if (i % 50 == 0) green::this_task::sleep_for(1ms);
    }
  });
}

// Holds a spinner that found nothing, before it stops spinning.
green_test::HookGate g_giving_up_gate;

// A waker wakes no sleeper while a worker spins; so a task readied just as the spinner
// gives up must be found by that spinner's last look before it sleeps. Here one worker
// computes (the root: its runnext can run only elsewhere), one sleeps, and the spinner is
// held where it gives up while the task is readied.
TEST(Scheduler, ATaskReadiedAsTheLastSpinnerGivesUpStillRuns) {
  green_test::ScopedHook hook(green::detail::test_hooks::spinner_giving_up, [] { g_giving_up_gate.pass(); });
  green::run(workers(3), [] {
    g_giving_up_gate.arm_except(std::this_thread::get_id());
    // An empty task at each look wakes a sleeping worker, which spins, then gives up.
    ASSERT_TRUE(green_test::wait_in_task([] {
      if (g_giving_up_gate.holding()) return true;
      green::go([] {});
      return false;
    })) << "no worker gave up spinning";
    // The third worker spins in vain, passes the (held) gate and sleeps: most likely by
    // now; the outcome must not depend on it.
    green_test::spin_until(
        [t = std::chrono::steady_clock::now() + 5ms] { return std::chrono::steady_clock::now() > t; });
    std::atomic<bool> ran{false};
    auto task = green::spawn([&] { ran = true; });  // our runnext; the held worker still spins
    g_giving_up_gate.open();
    EXPECT_TRUE(green_test::spin_until([&] { return ran.load(); }))
        << "the task readied as the spinner gave up never ran";
    task.join();
  });
}

TEST(Scheduler, WakeFromAnotherThreadReachesASleepingWorker) {
  green::run(workers(2), [] {
    green::Channel<int> ch;
    std::thread outsider([&] {
      std::this_thread::sleep_for(20ms);
      green::go([&] { ch.send(7); });  // spawned from outside: the global queue
    });
    EXPECT_EQ(ch.recv(), 7);
    outsider.join();
  });
}

// "main exits = all goroutines die": tasks still blocked when the root returns are
// never resumed, and run() still frees every stack and joins every worker.
TEST(Scheduler, RootReturnAbandonsBlockedTasksAndFreesTheirStacks) {
  std::atomic<int> resumed{0};
  // The channel outlives run(): the parked tasks refer to it. A fresh one per call, kept
  // for the process, so that a repeated test (--gtest_repeat) never parks on a channel
  // whose queue still links the tasks an earlier run abandoned.
  static std::vector<std::unique_ptr<green::Channel<int>>> channels;
  green::Channel<int>& never = *channels.emplace_back(std::make_unique<green::Channel<int>>());
  auto report = green::run(workers(2), [&] {
    static green::WaitGroup started;  // back at zero, with no waiter, after each run
    started.add(100);
    for (int i = 0; i < 100; ++i) {
      green::go([&] {
        started.done();
        never.recv();
        resumed.fetch_add(1);
      });
    }
    started.wait();
    green::this_task::sleep_for(10ms);  // let the last ones reach recv()
  });
  EXPECT_EQ(resumed.load(), 0);
  EXPECT_EQ(report.tasks_abandoned, 100u);
  EXPECT_EQ(report.stacks_in_use_at_exit, 100u) << "the abandoned stacks, unmapped by run()";
}

TEST(Scheduler, RunCanBeCalledAgain) {
  for (int i = 0; i < 3; ++i) {
    int v = 0;
    green::run(workers(2), [&] { v = green::spawn([] { return 5; }).join(); });
    EXPECT_EQ(v, 5);
  }
}

}  // namespace
