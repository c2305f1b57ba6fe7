// runtime_adapters_test.cpp: every adapter (tasks/fiber_runtime.h and the peers of
// baselines/) keeps the TaskRuntime contract (one typed test, written once against the
// concept, as the workloads are), and runtime
// prefixes round-trip through runtime_named().
//
// Invariant: only Boost.Fiber's round_robin runs in this process: work_stealing fixes the
// process's scheduler, and is exercised by the probe and timing tests in processes of
// their own.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/cpu_affinity.h"
#include "tasks/cpu_restricted_runtime.h"
#include "tasks/runtime_set.h"

namespace greenbench {
namespace {

template <class RT>
RT make_runtime();
template <>
FiberRuntime make_runtime() {
  return FiberRuntime{2};
}
template <>
StdThreadRuntime make_runtime() {
  return StdThreadRuntime{};
}
template <>
PthreadRuntime make_runtime() {
  return PthreadRuntime{kSmallPthreadStack};
}
template <>
BoostFiberRuntime make_runtime() {
  return BoostFiberRuntime{BoostFiberRuntime::Scheduler::round_robin, 1, BoostFiberRuntime::Stacks::pooled};
}

template <class RT>
class TaskRuntimeContract : public ::testing::Test {};
using Adapters = ::testing::Types<FiberRuntime, StdThreadRuntime, PthreadRuntime, BoostFiberRuntime>;
TYPED_TEST_SUITE(TaskRuntimeContract, Adapters);

TYPED_TEST(TaskRuntimeContract, SpawnedTasksRunBeforeJoinReturns) {
  const TypeParam rt = make_runtime<TypeParam>();
  std::atomic<int> ran{0};
  rt.run([&] {
    std::vector<typename TypeParam::Handle> handles(64);
    for (auto& handle : handles) handle = rt.spawn([&] { ran.fetch_add(1); });
    for (auto& handle : handles) handle.join();
    EXPECT_EQ(ran.load(), 64);
  });
  EXPECT_EQ(ran.load(), 64);
}

TYPED_TEST(TaskRuntimeContract, EventHandsOffBothWays) {
  const TypeParam rt = make_runtime<TypeParam>();
  rt.run([&] {
    typename TypeParam::Event ping, pong;
    std::int64_t token = 0;
    auto peer = rt.spawn([&] {
      for (int i = 0; i < 1000; ++i) {
        ping.wait();
        ++token;
        pong.signal();
      }
    });
    for (int i = 0; i < 1000; ++i) {
      ping.signal();
      pong.wait();
    }
    peer.join();
    EXPECT_EQ(token, 1000);
  });
}

TYPED_TEST(TaskRuntimeContract, ChannelTakesEveryValueFromManySendersOnce) {
  const TypeParam rt = make_runtime<TypeParam>();
  rt.run([&] {
    typename TypeParam::template Channel<std::int64_t> channel;
    constexpr int kSenders = 8, kEach = 200;
    std::vector<typename TypeParam::Handle> senders(kSenders);
    for (int s = 0; s < kSenders; ++s) {
      senders[s] = rt.spawn([&channel, s] {
        for (int i = 0; i < kEach; ++i) channel.send(std::int64_t{s} * kEach + i);
      });
    }
    std::vector<int> seen(kSenders * kEach, 0);
    for (int i = 0; i < kSenders * kEach; ++i) ++seen.at(static_cast<std::size_t>(channel.recv()));
    for (auto& sender : senders) sender.join();
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), kSenders * kEach);
  });
}

TYPED_TEST(TaskRuntimeContract, ChannelSendReturnsOnlyOnceTheValueIsTaken) {
  const TypeParam rt = make_runtime<TypeParam>();
  rt.run([&] {
    typename TypeParam::template Channel<std::int64_t> channel;
    typename TypeParam::Event sent;
    std::atomic<bool> returned{false};
    auto sender = rt.spawn([&] {
      channel.send(7);
      returned.store(true);
      sent.signal();
    });
    // Unbuffered: while nobody receives, the sender stays in send(). Yielding gives it
    // every chance to run (and, were the channel buffered, to return).
    for (int i = 0; i < 100; ++i) TypeParam::yield();
    EXPECT_FALSE(returned.load());
    EXPECT_EQ(channel.recv(), 7);
    sent.wait();
    EXPECT_TRUE(returned.load());
    sender.join();
  });
}

TYPED_TEST(TaskRuntimeContract, SleepUntilReturnsNoEarlierAndOthersRunMeanwhile) {
  const TypeParam rt = make_runtime<TypeParam>();
  rt.run([&] {
    std::atomic<bool> other_ran{false};
    auto other = rt.spawn([&] { other_ran = true; });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(5);
    TypeParam::sleep_until(deadline);
    EXPECT_GE(std::chrono::steady_clock::now(), deadline);
    other.join();
    EXPECT_TRUE(other_ran.load());
  });
}

TYPED_TEST(TaskRuntimeContract, EventSignalledTwiceWakesOnce) {
  const TypeParam rt = make_runtime<TypeParam>();
  rt.run([&] {
    typename TypeParam::Event event;
    event.signal();
    event.signal();  // binary: stays at one
    event.wait();
    std::atomic<bool> woke{false};
    auto waiter = rt.spawn([&] {
      event.wait();
      woke = true;
    });
    TypeParam::yield();
    EXPECT_FALSE(woke.load());
    event.signal();
    waiter.join();
    EXPECT_TRUE(woke.load());
  });
}

TYPED_TEST(TaskRuntimeContract, WaitGroupGateParksManyAndReleasesAll) {
  const TypeParam rt = make_runtime<TypeParam>();
  rt.run([&] {
    typename TypeParam::WaitGroup gate, ready;
    gate.add(1);
    std::atomic<int> released{0};
    std::vector<typename TypeParam::Handle> handles(100);
    ready.add(100);
    for (auto& handle : handles) {
      handle = rt.spawn([&] {
        ready.done();
        gate.wait();
        released.fetch_add(1);
      });
    }
    ready.wait();
    EXPECT_EQ(released.load(), 0);
    gate.done();
    for (auto& handle : handles) handle.join();
    EXPECT_EQ(released.load(), 100);
  });
}

TYPED_TEST(TaskRuntimeContract, YieldLetsTheOtherTaskTakeItsTurn) {
  const TypeParam rt = make_runtime<TypeParam>();
  rt.run([&] {
    std::atomic<int> turn{0};
    std::int64_t passes = 0;
    auto player = [&](int me) {
      for (int i = 0; i < 100; ++i) {
        while (turn.load() != me) TypeParam::yield();
        ++passes;
        turn = 1 - me;
      }
    };
    auto a = rt.spawn([&] { player(0); });
    auto b = rt.spawn([&] { player(1); });
    a.join();
    b.join();
    EXPECT_EQ(passes, 200);
  });
}

TEST(RuntimeSet, EverySuitePrefixRoundTrips) {
  const std::vector<std::string> prefixes = suite_runtime_prefixes();
  ASSERT_GE(prefixes.size(), 6u);
  for (const std::string& prefix : prefixes) {
    const auto rt = runtime_named(prefix);
    ASSERT_TRUE(rt.has_value()) << prefix;
    EXPECT_EQ(std::visit([](const auto& adapter) { return adapter.prefix(); }, *rt), prefix);
  }
  EXPECT_EQ(std::visit([](const auto& a) { return a.prefix(); }, *runtime_named("fiber/workers:7")),
            "fiber/workers:7");
  EXPECT_EQ(std::visit([](const auto& a) { return a.prefix(); }, *runtime_named("pthread/stack:256KiB")),
            "pthread/stack:256KiB");
  const auto small = runtime_named("fiber/workers:1/stack:64KiB");
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(std::visit([](const auto& a) { return a.prefix(); }, *small), "fiber/workers:1/stack:64KiB");
  EXPECT_EQ(std::get<FiberRuntime>(*small).stack_bytes(), 64u * 1024);
  EXPECT_EQ(std::get<FiberRuntime>(*runtime_named("fiber/workers:1")).stack_bytes(),
            green::Config{}.stack_size);
}

TEST(RuntimeSet, ScalingWorkerCountsMeetAcrossMachines) {
  const std::vector<unsigned> counts = scaling_worker_counts();
  const unsigned usable = static_cast<unsigned>(allowed_cpus().size());
  ASSERT_FALSE(counts.empty());
  EXPECT_EQ(counts.front(), 1u);
  EXPECT_EQ(counts.back(), usable);
  for (std::size_t i = 1; i + 1 < counts.size(); ++i) EXPECT_EQ(counts[i], 2 * counts[i - 1]);
  EXPECT_EQ(parse_worker_counts("1,2,4"), (std::vector<unsigned>{1, 2, 4}));
  for (const char* bad : {"", "0", "1,1", "2,x", "1025", "1,,2", "-1"}) {
    EXPECT_FALSE(parse_worker_counts(bad).has_value()) << bad;
  }
}

// Every thread of a restricted run, the root's and those it spawns, may run on the first
// C usable CPUs only; the caller's own mask is back once run() returns.
TEST(CpuRestrictedRuntime, KeepsTheWholeRunOnItsCpus) {
  const std::vector<int> usable = allowed_cpus();
  const CpuRestrictedRuntime rt{StdThreadRuntime{}, 1};
  EXPECT_EQ(rt.prefix(), "std_thread/cpus:1");
  std::vector<int> in_root, in_task;
  rt.run([&] {
    in_root = allowed_cpus();
    rt.spawn([&] { in_task = allowed_cpus(); }).join();
  });
  EXPECT_EQ(in_root, std::vector<int>{usable.front()});
  EXPECT_EQ(in_task, std::vector<int>{usable.front()});
  EXPECT_EQ(allowed_cpus(), usable);
  EXPECT_THROW((CpuRestrictedRuntime{StdThreadRuntime{}, static_cast<unsigned>(usable.size()) + 1}),
               std::invalid_argument);
  EXPECT_THROW((CpuRestrictedRuntime{StdThreadRuntime{}, 0}), std::invalid_argument);
}

// Placement (PlacingRuntime, the switch workload's place:same and place:cross) is offered
// only where a task stays where it is put: by ours, not by the peers.
static_assert(PlacingRuntime<FiberRuntime>);
static_assert(!PlacingRuntime<BoostFiberRuntime> && !PlacingRuntime<StdThreadRuntime>);

TEST(FiberRuntime, SpawnOnKeepsATaskOnItsWorkerThroughHandOffs) {
  const FiberRuntime rt{2};
  int away = 0;
  rt.run([&] {
    FiberRuntime::Event ping, pong;
    auto first = rt.spawn_on(0, [&] {
      for (int i = 0; i < 100; ++i) {
        ping.signal();
        pong.wait();
        away += green::this_task::worker_index() != 0;
      }
    });
    auto second = rt.spawn_on(1, [&] {
      for (int i = 0; i < 100; ++i) {
        ping.wait();
        away += green::this_task::worker_index() != 1;
        pong.signal();
      }
    });
    first.join();
    second.join();
  });
  EXPECT_EQ(away, 0);
}

TEST(RuntimeSet, MalformedPrefixesNameNothing) {
  for (const char* prefix : {"", "fiber", "fiber/workers:0", "fiber/workers:x", "fiber/workers:1/x:1",
                             "fiber/workers:1/stack:10KiB", "fiber/workers:1/stack:64KiB/x:1", "std_thread/x",
                             "pthread", "pthread/stack:10KiB", "pthread/stack:64K", "go/procs:2",
                             "boost_fiber/sched:round_robin/workers:2/alloc:default",
                             "boost_fiber/sched:work_stealing/workers:2/alloc:malloc",
                             "boost_fiber/sched:work_stealing/alloc:pooled/workers:2"}) {
    EXPECT_FALSE(runtime_named(prefix).has_value()) << prefix;
  }
}

}  // namespace
}  // namespace greenbench
