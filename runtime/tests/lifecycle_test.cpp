// lifecycle_test.cpp: what a task and a run carry through their lives: the C++ exception
// state travels with its task across switches and workers; handles that outlive the run
// are inert; the task-block caches stay bounded when tasks finish away from where they
// were spawned; a stack that cannot be had ends the process clearly; foreign threads
// spawning while the run ends are refused, never raced.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "green/green.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using green_test::workers;

constexpr int kScale = green_test::kSanitized ? 10 : 1;

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
}

// Two tasks on one worker park inside their catch blocks in turn: each must still see
// its own exception when it resumes, and leaving the handler must pop its own.
TEST(ExceptionState, TasksParkedInHandlersOnOneWorkerKeepTheirOwn) {
  green::run(workers(1), [] {
    std::vector<green::JoinHandle<void>> hs;
    for (int i = 0; i < 2; ++i) {
      hs.push_back(green::spawn([i] {
        const std::string mine = "task " + std::to_string(i);
        try {
          throw std::runtime_error(mine);
        } catch (const std::exception&) {
          for (int k = 0; k < 3; ++k) {
            green::this_task::yield();
            ASSERT_EQ(what_of(std::current_exception()), mine);
          }
        }
        EXPECT_EQ(std::current_exception(), nullptr);
      }));
    }
    for (auto& h : hs) h.join();
    EXPECT_EQ(std::current_exception(), nullptr);
  });
}

// Tasks that park inside a handler resume on other workers: the handler's exception
// moves with them.
TEST(ExceptionState, TravelsWithTheTaskAcrossWorkers) {
  std::atomic<int> moved{0}, wrong{0};
  green::run(workers(4), [&] {
    std::vector<green::JoinHandle<void>> hs;
    for (int i = 0; i < 64; ++i) {
      hs.push_back(green::spawn([&, i] {
        const std::string mine = "task " + std::to_string(i);
        try {
          throw std::runtime_error(mine);
        } catch (const std::exception&) {
          for (int k = 0; k < 20; ++k) {
            int before = green::this_task::worker_index();
            green::this_task::sleep_for(100us);
            if (green::this_task::worker_index() != before) moved.fetch_add(1);
            if (what_of(std::current_exception()) != mine) wrong.fetch_add(1);
          }
        }
        if (std::current_exception() != nullptr) wrong.fetch_add(1);
      }));
    }
    for (auto& h : hs) h.join();
  });
  EXPECT_EQ(wrong.load(), 0);
  RecordProperty("resumed_on_another_worker", moved.load());
}

// std::uncaught_exceptions() is per task too: a destructor that parks while its task
// unwinds still sees the unwinding, and a task that runs meanwhile does not.
TEST(ExceptionState, UncaughtCountIsPerTask) {
  green::run(workers(1), [] {
    int seen_by_unwinder_after_park = -1, seen_by_other = -1;
    struct ParksWhileUnwinding {
      int* seen;
      ~ParksWhileUnwinding() {
        green::this_task::yield();
        *seen = std::uncaught_exceptions();
      }
    };
    auto unwinder = green::spawn([&] {
      try {
        ParksWhileUnwinding p{&seen_by_unwinder_after_park};
        throw std::runtime_error("unwinding");
      } catch (const std::exception&) {
      }
    });
    auto other = green::spawn([&] { seen_by_other = std::uncaught_exceptions(); });
    unwinder.join();
    other.join();
    EXPECT_EQ(seen_by_unwinder_after_park, 1);
    EXPECT_EQ(seen_by_other, 0);
  });
}

// run() called inside a handler: the root task starts with no exception of its own, and
// the caller's handler still has its exception once run() returns.
TEST(ExceptionState, RunInsideAHandlerKeepsTheCallersOwn) {
  try {
    throw std::runtime_error("the caller's");
  } catch (const std::exception&) {
    bool root_saw_none = false;
    green::run(workers(1), [&] {
      green::this_task::yield();
      root_saw_none = std::current_exception() == nullptr;
    });
    EXPECT_TRUE(root_saw_none);
    EXPECT_EQ(what_of(std::current_exception()), "the caller's");
  }
}

// A handle whose task was abandoned, and one whose task finished unjoined, both outlive
// the run: neither may touch the run's freed memory (ASan saw a use-after-free in
// ~JoinHandle), and neither is joinable.
TEST(HandleAfterRun, IsInertAndNotJoinable) {
  green::JoinHandle<int> abandoned, finished;
  green::run(workers(1), [&] {
    green::WaitGroup ran(1);
    finished = green::spawn([&] {
      ran.done();
      return 1;
    });
    ran.wait();
    green::this_task::yield();  // let it finish
    abandoned = green::spawn([] {
      green::Channel<int> never;
      return *never.recv();
    });
  });
  EXPECT_FALSE(abandoned.joinable());
  EXPECT_FALSE(finished.joinable());
  EXPECT_EQ(abandoned.id(), 0u);
  abandoned.detach();
  // `finished` is destroyed here, after the run.
}

TEST(HandleAfterRunDeathTest, JoinEndsTheProcessClearly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        green::JoinHandle<int> h;
        green::run(workers(1), [&] { h = green::spawn([] { return 1; }); });
        h.join();
      },
      "JoinHandle::join\\(\\) after its run ended");
}

// Tasks spawned from a plain thread take their blocks from the arena's shared pool and
// finish on a worker, whose cache would keep every block: over many rounds the blocks
// carved must stay bounded by what is alive, not grow with the spawn count.
TEST(TaskBlocks, StayBoundedWhenSpawnedHereAndFinishedThere) {
  const int total = 200'000 / kScale, alive_max = 200;
  auto report = green::run(workers(1), [&] {
    std::atomic<int> finished{0};
    std::thread spawner([&] {
      for (int i = 0; i < total; ++i) {
        while (i - finished.load(std::memory_order_acquire) >= alive_max) std::this_thread::yield();
        green::go([&] { finished.fetch_add(1, std::memory_order_release); });
      }
    });
    while (finished.load(std::memory_order_acquire) < total) green::this_task::sleep_for(1ms);
    spawner.join();
  });
  EXPECT_EQ(report.tasks_spawned, static_cast<std::uint64_t>(total) + 1);
  EXPECT_EQ(report.tasks_abandoned, 0u);
  // Alive blocks plus each cache's bound, rounded up to whole slabs of 1,024 blocks.
  EXPECT_LE(report.task_blocks_carved, 4096u) << "freed blocks piled up instead of being reused";
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// A task switching to one that has no stack yet, when no stack can be mapped: the process
// ends naming the cause, never deadlocks or runs on with a parked task's lock held.
// (Not under the sanitizers: their own allocators die first under a tight RLIMIT_AS.)
TEST(StacksDeathTest, NoStackToBeHadEndsTheProcessNamingTheCause) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        green::run(workers(1), [] {
          std::vector<green::JoinHandle<void>> hs;
          hs.reserve(1000);
          green::Channel<int> never;
          green::spawn([] {}).join();  // the worker's task blocks are carved now
          rlimit lim{};
          getrlimit(RLIMIT_AS, &lim);
          std::ifstream("/proc/self/statm") >> lim.rlim_cur;
          lim.rlim_cur = lim.rlim_cur * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + (1u << 20);
          setrlimit(RLIMIT_AS, &lim);  // no further mapping of a stack slab
          for (int i = 0; i < 1000; ++i) hs.push_back(green::spawn([&] { never.recv(); }));
          never.recv();
        });
      },
      "green: out of memory: no stack");
}
#endif

// A plain thread spawns in a loop while the root returns and run() tears down: spawns
// either start (and are abandoned with the rest) or are refused with a handle that is not
// joinable; none races the teardown (TSan saw one on the arena's slab list).
TEST(ForeignSpawn, RacingTheEndOfTheRunIsRefusedNotRaced) {
  for (int round = 0; round < 20; ++round) {
    std::atomic<bool> started{false};
    std::atomic<int> refused{0};
    std::thread spawner;
    green::run(workers(2), [&] {
      spawner = std::thread([&] {
        for (;;) {
          auto h = green::spawn([] { green::this_task::yield(); });
          started.store(true);
          if (!h.joinable()) {
            refused.fetch_add(1);
            return;
          }
        }
      });
      while (!started.load()) green::this_task::sleep_for(100us);
    });
    spawner.join();
    EXPECT_EQ(refused.load(), 1);
  }
}

}  // namespace
