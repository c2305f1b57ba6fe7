// placement_test.cpp: tasks pinned to a worker (green::spawn_on): they run on their home
// worker only, whatever parks and wakes them and wherever the waker runs; a pinned task
// made runnable for an idle worker wakes it; a run ends cleanly with pinned tasks parked.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "green/green.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;

using green_test::workers;

// Sanitizer builds run this at a tenth of the size: same logic, bounded time.
constexpr int kScale = green_test::kSanitized ? 10 : 1;

// Every way a task can park and become runnable again, each followed by a look at the
// worker it resumed on; counts the looks that found another worker than `home`.
int park_every_way(unsigned home, int rounds) {
  const int other = 1 - static_cast<int>(home);
  int away = 0;
  const auto look = [&] { away += green::this_task::worker_index() != static_cast<int>(home); };
  look();  // its first switch
  for (int i = 0; i < rounds; ++i) {
    green::this_task::yield();
    look();
    green::this_task::sleep_for(50us);
    look();
    green::Channel<int> ch;  // woken by a sender that may run on any worker
    auto sender = green::spawn([&] { ch.send(i); });
    EXPECT_EQ(ch.recv(), i);
    look();
    sender.join();
    look();
    auto receiver = green::spawn([&] { EXPECT_EQ(ch.recv(), i); });  // a receiver anywhere
    ch.send(i);
    look();
    receiver.join();
    look();
    green::WaitGroup wg;
    wg.add(1);
    auto done = green::spawn([&] {
      green::this_task::yield();
      wg.done();
    });
    wg.wait();
    look();
    done.join();
    look();
    // Joined tasks end elsewhere: unpinned (and stealable), and pinned to the other worker
    // (it ends there and must not resume its joiner there).
    green::spawn([] { green::this_task::yield(); }).join();
    look();
    green::spawn_on(other, [] { green::this_task::yield(); }).join();
    look();
  }
  return away;
}

// Two pinned tasks, one per worker, park every way while unpinned tasks keep both
// workers busy and stealing from each other.
TEST(Placement, APinnedTaskResumesOnItsWorkerHoweverItParks) {
  const int rounds = 300 / kScale;
  std::atomic<int> away{0};
  std::atomic<bool> done{false};
  green::run(workers(2), [&] {
    std::vector<green::JoinHandle<void>> churn;
    for (int i = 0; i < 16; ++i) {
      churn.push_back(green::spawn([&] {
        while (!done.load(std::memory_order_relaxed)) green::this_task::yield();
      }));
    }
    auto on0 = green::spawn_on(0, [&] { away += park_every_way(0, rounds); });
    auto on1 = green::spawn_on(1, [&] { away += park_every_way(1, rounds); });
    on0.join();
    on1.join();
    done = true;
    for (auto& h : churn) h.join();
  });
  EXPECT_EQ(away.load(), 0) << "a pinned task resumed on another worker";
}

// A pinned task queued while its worker computes is never taken by the idle worker: it
// waits for its own. An unpinned task spawned after it shows the idle worker was there
// to take it (it runs the unpinned one); the pinned one runs at home once the hog ends.
TEST(Placement, APinnedTaskWaitsForItsBusyWorkerWhileAnotherIsIdle) {
  green::run(workers(2), [] {
    green::spawn_on(1, [] {
      std::atomic<bool> hogging{false}, release{false}, pinned_ran{false};
      std::atomic<int> pinned_on{-1}, unpinned_on{-1};
      auto hog = green::spawn_on(0, [&] {
        hogging = true;
        green_test::spin_until([&] { return release.load(); });
      });
      ASSERT_TRUE(green_test::wait_in_task([&] { return hogging.load(); }));
      auto pinned = green::spawn_on(0, [&] {
        pinned_on = green::this_task::worker_index();
        pinned_ran = true;
      });
      green::spawn([&] { unpinned_on = green::this_task::worker_index(); }).join();
      EXPECT_EQ(unpinned_on.load(), 1);
      EXPECT_FALSE(pinned_ran.load()) << "the pinned task ran while its worker computed";
      release = true;
      hog.join();
      pinned.join();
      EXPECT_EQ(pinned_on.load(), 0);
    }).join();
  });
}

// Holds a worker that has nothing to run before it registers as idle, or just after.
green_test::HookGate g_before_gate, g_entered_gate;

// A pinned task sent to a worker that is going idle runs, whether it arrives before the
// worker registers as idle (it must see its inbox when it re-checks) or after (the
// sender must find it on the idle list and wake it).
TEST(Placement, APinnedTaskForAWorkerGoingIdleRuns) {
  namespace hooks = green::detail::test_hooks;
  for (auto* gate : {&g_before_gate, &g_entered_gate}) {
    green_test::ScopedHook before(hooks::idle_before_enter, [] { g_before_gate.pass(); });
    green_test::ScopedHook entered(hooks::idle_entered, [] { g_entered_gate.pass(); });
    green::run(workers(2), [&] {
      green::spawn_on(0, [&] {
        ASSERT_TRUE(green_test::hold_the_other_worker(*gate)) << "no worker went idle";
        std::atomic<int> ran_on{-1};
        green::spawn_on(1, [&] { ran_on = green::this_task::worker_index(); }).detach();
        gate->open();
        EXPECT_TRUE(green_test::wait_in_task([&] { return ran_on.load() != -1; }))
            << "the pinned task never ran: its worker slept through it";
        EXPECT_EQ(ran_on.load(), 1);
      }).join();
    });
  }
}

// Hand-offs back and forth between two pinned tasks, each worker going idle between its
// turns: every wake-up has to reach a worker that may be asleep.
TEST(Placement, PingPongAcrossTwoWorkersLosesNoWakeUp) {
  const int rounds = 5'000 / kScale;
  green::run(workers(2), [&] {
    green::Channel<int> ping, pong;
    auto a = green::spawn_on(0, [&] {
      for (int i = 0; i < rounds; ++i) {
        ping.send(i);
        EXPECT_EQ(pong.recv(), i);
      }
    });
    auto b = green::spawn_on(1, [&] {
      for (int i = 0; i < rounds; ++i) pong.send(*ping.recv());
    });
    a.join();
    b.join();
  });
}

TEST(Placement, SpawnOnRefusesAWorkerTheRunDoesNotHave) {
  green::run(workers(2), [] {
    try {
      green::spawn_on(2, [] {});
      ADD_FAILURE() << "spawn_on(2) with 2 workers did not throw";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("no worker 2 (the run has 2 workers)"), std::string::npos)
          << e.what();
    }
  });
}

// From a plain thread: spawn_on places the task, and a wake (a send) sends it home.
TEST(Placement, APlainThreadSpawnsAndWakesPinnedTasks) {
  green::run(workers(2), [] {
    green::Channel<int> ch{1};
    std::atomic<int> spawned_on{-1}, woken_on{-1};
    std::atomic<bool> parked{false};
    auto receiver = green::spawn_on(1, [&] {
      parked = true;
      EXPECT_EQ(*ch.recv(), 7);
      woken_on = green::this_task::worker_index();
    });
    ASSERT_TRUE(green_test::wait_in_task([&] { return parked.load(); }));
    std::thread outsider([&] {
      std::this_thread::sleep_for(20ms);  // most likely parked by now (the test holds either way)
      green::spawn_on(1, [&] { spawned_on = green::this_task::worker_index(); }).detach();
      int v = 7;
      EXPECT_TRUE(ch.try_send(v));
    });
    receiver.join();
    outsider.join();
    EXPECT_TRUE(green_test::wait_in_task([&] { return spawned_on.load() != -1; }));
    EXPECT_EQ(spawned_on.load(), 1);
    EXPECT_EQ(woken_on.load(), 1);
  });
}

// "main exits = all goroutines die" holds for pinned tasks too: parked on a channel or
// asleep on either worker, they are never resumed, and run() frees them and returns.
TEST(Placement, RootReturnAbandonsParkedPinnedTasks) {
  std::atomic<int> resumed{0};
  green::Channel<int> never;  // outlives run(): the parked tasks refer to it
  green::WaitGroup started;
  auto report = green::run(workers(2), [&] {
    started.add(40);
    for (unsigned i = 0; i < 40; ++i) {
      green::spawn_on(i % 2, [&, i] {
        started.done();
        if (i % 4 < 2) {
          never.recv();
        } else {
          green::this_task::sleep_for(1h);
        }
        resumed.fetch_add(1);
      }).detach();
    }
    started.wait();
    green::this_task::sleep_for(10ms);  // let the last ones park
  });
  EXPECT_EQ(resumed.load(), 0);
  EXPECT_EQ(report.tasks_abandoned, 40u);
  int v = 0;
  green::run(workers(2), [&] { v = green::spawn_on(1, [] { return 5; }).join(); });
  EXPECT_EQ(v, 5) << "a run after one that abandoned pinned tasks";
}

}  // namespace
