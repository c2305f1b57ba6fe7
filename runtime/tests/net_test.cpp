// net_test.cpp: blocking I/O that parks the task: wake-ups reach the right reader and no
// other, timeouts, closes that wake waiters, peers that vanish mid-message, TCP over
// loopback, and no descriptor left open by any of it.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "green/green.h"
#include "scheduler.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using green::net::Conn;

// Sanitizer builds run the largest test at a tenth of the size: same logic, bounded time.
constexpr int kScale = green_test::kSanitized ? 10 : 1;

using green_test::workers;

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A connected pair of stream sockets, both registered with the run.
std::pair<Conn, Conn> conn_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw std::system_error(errno, std::generic_category());
  auto a = green::net::Socket::adopt(fds[0]);
  auto b = green::net::Socket::adopt(fds[1]);
  EXPECT_TRUE(a && b);
  return {Conn(std::move(a.value)), Conn(std::move(b.value))};
}

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

TEST(Net, EachBlockedReaderIsWokenByItsOwnDataAndNoOther) {
  constexpr int kPairs = 64;
  std::size_t fds_before = open_fds();
  green::run(workers(2), [] {
    std::vector<std::pair<Conn, Conn>> pairs;
    for (int i = 0; i < kPairs; ++i) pairs.push_back(conn_pair());
    std::atomic<int> done{0};
    std::vector<int> got(kPairs, -1);
    std::vector<green::JoinHandle<void>> readers;
    for (int i = 0; i < kPairs; ++i) {
      readers.push_back(green::spawn([&, i] {
        int value = -1;
        auto r = pairs[i].first.read_full(&value, sizeof value);
        EXPECT_TRUE(r) << r.error.message();
        got[i] = value;
        done.fetch_add(1);
      }));
    }
    green::this_task::sleep_for(20ms);
    EXPECT_EQ(done.load(), 0) << "a reader returned with no data";

    std::vector<int> order(kPairs);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937(7));
    // Feed half of them; only those may finish.
    for (int k = 0; k < kPairs / 2; ++k) {
      int i = order[k];
      int value = 1000 + i;
      ASSERT_TRUE(pairs[i].second.write(&value, sizeof value));
    }
    while (done.load() < kPairs / 2) green::this_task::sleep_for(1ms);
    green::this_task::sleep_for(20ms);
    EXPECT_EQ(done.load(), kPairs / 2) << "a reader woke without its data";
    for (int k = kPairs / 2; k < kPairs; ++k) {
      int i = order[k];
      int value = 1000 + i;
      ASSERT_TRUE(pairs[i].second.write(&value, sizeof value));
    }
    for (auto& h : readers) h.join();
    for (int i = 0; i < kPairs; ++i) EXPECT_EQ(got[i], 1000 + i);
  });
  EXPECT_EQ(open_fds(), fds_before);
}

TEST(Net, ReadTimesOutWithoutData) {
  green::run(workers(1), [] {
    auto [a, b] = conn_pair();
    char c;
    auto start = std::chrono::steady_clock::now();
    auto r = a.read_some(&c, 1, 50ms);
    auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.error, std::errc::timed_out);
    EXPECT_GE(waited, 50ms);
    EXPECT_LT(waited, 2s);
    // The descriptor still works after a timeout.
    ASSERT_TRUE(b.write("x", 1));
    r = a.read_some(&c, 1, 1s);
    EXPECT_TRUE(r);
    EXPECT_EQ(c, 'x');
  });
}

TEST(Net, AnEndedWaitsTimeoutNeverFiresIntoALaterWait) {
  // One worker, so the order is fixed: the writer runs only once the first read has
  // parked, and its data ends that read whatever the machine's speed (the timeout is
  // far beyond any stall); the second byte comes only after the first read's deadline.
  green::run(workers(1), [] {
    auto [a, b] = conn_pair();
    constexpr auto kFirstTimeout = 300ms;
    auto first_deadline = std::chrono::steady_clock::now() + kFirstTimeout;
    auto writer = green::spawn([&, &b = b] {
      b.write("1", 1);
      green::this_task::sleep_until(first_deadline + 50ms);  // past the first read's timeout
      b.write("2", 1);
    });
    char c;
    auto r = a.read_some(&c, 1, kFirstTimeout);  // ends by data, long before its timeout
    ASSERT_TRUE(r) << r.error.message();
    EXPECT_EQ(c, '1');
    r = a.read_some(&c, 1);  // no timeout: the stale one must not end it
    EXPECT_TRUE(r) << r.error.message();
    EXPECT_EQ(c, '2');
    writer.join();
  });
}

TEST(Net, TimeoutsThatNeverFireDoNotAccumulate) {
  // 20k reads, each with an hour's timeout and each ended by data within microseconds:
  // the timer heap must drop the stale entries rather than hold all 20k.
  constexpr int kRounds = 20000;
  auto report = green::run(workers(1), [] {
    auto [a, b] = conn_pair();
    auto echo = green::spawn([&a] {
      char c;
      while (a.read_full(&c, 1, 1h).value == 1) a.write(&c, 1);
    });
    char c = 'p';
    for (int i = 0; i < kRounds; ++i) {
      ASSERT_TRUE(b.write(&c, 1));
      ASSERT_EQ(b.read_full(&c, 1, 1h).value, 1u);
    }
    b.shutdown_write();
    echo.join();
  });
  EXPECT_GT(report.timers_peak, 100u) << "the reads never parked: the test tests nothing";
  EXPECT_LE(report.timers_peak, 2048u);
}

TEST(Net, PeerClosingMidMessageIsAnErrorNotAHang) {
  green::run(workers(2), [] {
    auto [a, b] = conn_pair();
    auto peer = green::spawn([b = std::move(b)]() mutable {
      b.write("0123456789", 10);
      b.close();
    });
    char buf[100];
    auto r = a.read_full(buf, sizeof buf);
    EXPECT_EQ(r.error, green::net::errc::unexpected_eof);
    EXPECT_EQ(r.value, 10u);
    // A clean end of stream between messages is not an error.
    r = a.read_full(buf, sizeof buf);
    EXPECT_TRUE(r);
    EXPECT_EQ(r.value, 0u);
    peer.join();
  });
}

TEST(Net, CloseWakesTheTaskParkedOnTheDescriptor) {
  std::size_t fds_before = open_fds();
  // One worker: once the reader has said so and we run again, it is parked in read_some.
  green::run(workers(1), [] {
    auto [a, b] = conn_pair();
    std::atomic<bool> parked{false};
    auto reader = green::spawn([&] {
      char c;
      parked = true;
      auto r = a.read_some(&c, 1);
      EXPECT_EQ(r.error, green::net::errc::closed);
    });
    while (!parked) green::this_task::yield();
    a.close();
    reader.join();
    char c;
    EXPECT_EQ(a.read_some(&c, 1).error, green::net::errc::closed) << "a closed Conn must refuse calls";
  });
  EXPECT_EQ(open_fds(), fds_before);
}

TEST(Net, WritesParkWhileTheBufferIsFullAndAllBytesArrive) {
  green::run(workers(2), [] {
    auto [a, b] = conn_pair();
    std::vector<char> out(8 << 20);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(i * 131);
    auto writer = green::spawn([&] {
      auto r = a.write(out.data(), out.size());
      EXPECT_TRUE(r);
      EXPECT_EQ(r.value, out.size());
      a.shutdown_write();
    });
    std::vector<char> in;
    char buf[4096];
    for (;;) {
      auto r = b.read_some(buf, sizeof buf);
      ASSERT_TRUE(r);
      if (r.value == 0) break;
      in.insert(in.end(), buf, buf + r.value);
    }
    writer.join();
    EXPECT_TRUE(in == out);
  });
}

TEST(Net, TcpEchoOverLoopbackLeavesNoDescriptorOpen) {
  static constexpr int kClients = 200;
  std::size_t fds_before = open_fds();
  green::run(workers(2), [] {
    auto listener = green::net::Listener::listen({"127.0.0.1", 0});
    ASSERT_TRUE(listener) << listener.error.message();
    green::net::Address at = listener.value.local_address();
    EXPECT_EQ(at.host, "127.0.0.1");
    ASSERT_NE(at.port, 0);
    std::size_t fds_serving = open_fds();

    auto server = green::spawn([&] {
      green::WaitGroup conns;
      for (int i = 0; i < kClients; ++i) {
        auto c = listener.value.accept();
        ASSERT_TRUE(c) << c.error.message();
        conns.add(1);
        green::go([&conns, conn = std::move(c.value)]() mutable {
          char buf[256];
          for (;;) {
            auto r = conn.read_some(buf, sizeof buf);
            if (!r || r.value == 0) break;
            if (!conn.write(buf, r.value)) break;
          }
          conn.close();
          conns.done();
        });
      }
      conns.wait();
    });

    green::WaitGroup clients;
    std::atomic<int> ok{0};
    for (int i = 0; i < kClients; ++i) {
      clients.add(1);
      green::go([&, i] {
        auto c = green::net::connect(at, green_test::kPatience);
        EXPECT_TRUE(c) << c.error.message();
        if (c) {
          std::string msg = "hello " + std::to_string(i);
          std::string back(msg.size(), '\0');
          for (int round = 0; round < 10; ++round) {
            ASSERT_TRUE(c.value.write(msg.data(), msg.size()));
            ASSERT_TRUE(c.value.read_full(back.data(), back.size(), green_test::kPatience));
            if (back != msg) break;
          }
          if (back == msg) ok.fetch_add(1);
        }
        clients.done();
      });
    }
    clients.wait();
    server.join();
    EXPECT_EQ(ok.load(), kClients);
    EXPECT_EQ(open_fds(), fds_serving) << "a connection's descriptor outlived its close()";
  });
  EXPECT_EQ(open_fds(), fds_before);
}

TEST(Net, ConnectErrorsAreReported) {
  green::run(workers(1), [] {
    // A port nobody listens on: take one, then close it.
    auto l = green::net::Listener::listen({"127.0.0.1", 0});
    ASSERT_TRUE(l);
    green::net::Address at = l.value.local_address();
    l.value.close();
    auto c = green::net::connect(at, 1s);
    EXPECT_EQ(c.error, std::errc::connection_refused);
    EXPECT_EQ(green::net::connect({"not-an-address", 1}).error, std::errc::invalid_argument);
  });
}

TEST(Net, AcceptTimesOut) {
  green::run(workers(1), [] {
    auto l = green::net::Listener::listen({"127.0.0.1", 0});
    ASSERT_TRUE(l);
    auto c = l.value.accept(20ms);
    EXPECT_EQ(c.error, std::errc::timed_out);
  });
}

TEST(Net, AWorkerWaitingOnlyForIoUsesNoCpu) {
  double cpu = 0;
  green::run(workers(2), [&] {
    auto [a, b] = conn_pair();
    auto late = green::spawn([&b] {
      green::this_task::sleep_for(200ms);
      b.write("x", 1);
    });
    double start = cpu_seconds();
    char c;
    EXPECT_TRUE(a.read_some(&c, 1));
    cpu = cpu_seconds() - start;
    late.join();
  });
  EXPECT_LT(cpu, 0.05) << "waiting 0.2 s for input cost " << cpu << " s of CPU: busy polling";
}

TEST(Net, ShutdownWithTasksStillWaitingOnIoClosesEverything) {
  std::size_t fds_before = open_fds();
  std::vector<Conn> survivors;
  auto report = green::run(workers(2), [&] {
    auto l = green::net::Listener::listen({"127.0.0.1", 0});
    ASSERT_TRUE(l);
    green::go([l = std::move(l.value)]() mutable { l.accept(); });
    for (int i = 0; i < 50; ++i) {
      auto [a, b] = conn_pair();
      green::go([a = std::move(a)]() mutable {
        char c;
        a.read_some(&c, 1);
      });
      green::go([]() {
        auto [x, y] = conn_pair();  // on the task's stack: never destroyed
        char c;
        x.read_some(&c, 1, 1h);
      });
      survivors.push_back(std::move(b));
    }
    green::this_task::sleep_for(20ms);
  });
  EXPECT_GT(report.tasks_abandoned, 100u);
  EXPECT_EQ(open_fds(), fds_before) << "descriptors of abandoned tasks were left open";
  EXPECT_FALSE(survivors[0].is_open()) << "a Conn that outlives its run must be inert";
  EXPECT_EQ(survivors[0].fd(), -1);
  survivors.clear();  // destroying inert Conns touches nothing
  EXPECT_EQ(open_fds(), fds_before);
}

// ---- A call racing a close: the PollDesc it loaded may be recycled --------------------

// Holds a call between loading its Socket's PollDesc and acquiring it.
green_test::HookGate g_call_gate;

// close() may come from any task at any time. A call that had loaded the Conn's
// descriptor when another task closed it must fail with errc::closed, even though the
// PollDesc (and the descriptor number) went to the next socket opened meanwhile.
TEST(Net, ACallRacingCloseNeverReadsTheNextConnectionsData) {
  green_test::ScopedHook hook(green::detail::test_hooks::net_call_loaded_desc, [] { g_call_gate.pass(); });
  green::run(workers(2), [] {
    auto [a, a_peer] = conn_pair();
    std::string got;
    std::error_code error;
    g_call_gate.arm();
    auto reader = green::spawn([&, &a = a] {
      char buf[16];
      auto r = a.read_some(buf, sizeof buf);
      got.assign(buf, r.value);
      error = r.error;
    });
    bool held = green_test::wait_in_task([] { return g_call_gate.holding(); });
    a.close();
    auto [b, b_peer] = conn_pair();  // takes the PollDesc (and fd number) a just freed
    ASSERT_TRUE(b_peer.write("secret", 6));
    g_call_gate.open();
    reader.join();
    ASSERT_TRUE(held) << "the reader never reached the hook";
    EXPECT_EQ(error, green::net::errc::closed);
    EXPECT_EQ(got, "") << "a call on a closed Conn read another connection's data";
  });
}

// ---- Who polls: yield, idle workers, blockers woken by a timeout --------------------

// With one worker, a task spinning on yield() must let a task whose descriptor is ready
// run: yield is the only way the worker gets to poll.
TEST(Net, YieldLetsATaskWhoseDescriptorIsReadyRun) {
  green::run(workers(1), [] {
    auto [a, b] = conn_pair();
    std::atomic<bool> parked{false}, got{false};
    auto reader = green::spawn([&, &a = a] {
      char c;
      parked = true;
      got = a.read_some(&c, 1).value == 1;
    });
    while (!parked) green::this_task::yield();
    ASSERT_TRUE(b.write("x", 1));  // the reader is parked: now its descriptor is ready
    EXPECT_TRUE(green_test::wait_in_task([&] { return got.load(); }))
        << "yield() never let the ready reader run";
    b.close();
    reader.join();
  });
}

// Holds a worker that has nothing to run before it registers as idle.
green_test::HookGate g_idle_gate;

// A worker about to go idle when a task on another worker parks on I/O (whose wake-up
// call finds no idle worker yet) must still end up polling for it: here the parked
// task's own worker computes, so no one else can.
TEST(Net, AWorkerGoingIdleAsATaskParksOnIoStillPollsForIt) {
  green_test::ScopedHook hook(green::detail::test_hooks::idle_before_enter, [] { g_idle_gate.pass(); });
  green::run(workers(2), [] {
    auto [a, b] = conn_pair();
    ASSERT_TRUE(green_test::hold_the_other_worker(g_idle_gate)) << "no worker went idle";
    std::atomic<bool> woke{false}, woke_while_busy{false};
    // Runs on this worker once the root parks (the other worker is held in the hook).
    auto busy = green::spawn([&, &b = b] {
      b.write("x", 1);
      g_idle_gate.open();
      woke_while_busy = green_test::spin_until([&] { return woke.load(); });
    });
    char c;
    EXPECT_TRUE(a.read_some(&c, 1));
    woke = true;
    busy.join();
    EXPECT_TRUE(woke_while_busy) << "the ready reader waited for the busy worker: no worker polled";
  });
}

// An I/O timeout is kept by the worker where the task parked; while that worker
// computes, an idle worker must fire it on time. The other worker is held until then,
// so it cannot steal the computing task.
TEST(Net, AnIoTimeoutFiresWhileItsWorkerComputesAndAnotherIsIdle) {
  green_test::ScopedHook hook(green::detail::test_hooks::idle_before_enter, [] { g_idle_gate.pass(); });
  green::run(workers(2), [] {
    auto [a, b] = conn_pair();
    ASSERT_TRUE(green_test::hold_the_other_worker(g_idle_gate)) << "no worker went idle";
    std::atomic<bool> woke{false}, woke_while_busy{false};
    std::error_code error;
    auto waiter = green::spawn([&, &a = a] {
      // Queued behind us on this worker: it computes once we park.
      auto busy = green::spawn([&] {
        g_idle_gate.open();
        woke_while_busy = green_test::spin_until([&] { return woke.load(); });
      });
      char c;
      error = a.read_some(&c, 1, 20ms).error;
      woke = true;
      busy.join();
    });
    waiter.join();
    EXPECT_EQ(error, std::errc::timed_out);
    EXPECT_TRUE(woke_while_busy) << "the timeout waited for its busy worker";
  });
}

// Holds the blocker back from epoll_wait before it leaves idle, and a worker that has
// just registered as idle.
green_test::HookGate g_woke_gate, g_entered_gate;

// Suspected, and confirmed for a blocker woken by an interrupt: a worker that registered
// as idle while the blocker was waking (so it could not take the role) and then found
// the queues empty (the blocker took the work that woke it) slept on its futex, and
// while the blocker computed no one polled. Each step is held at a hook by a thread of
// the test's own, so the interleaving is exact; the blocker must hand its role on. The
// gates name the worker they hold: a blocker woken late by an earlier interrupt (the busy
// task's) passes the idle point too, and must not take the place of the worker that ran
// out of work (it did, one run in a hundred under load, and the steps went astray).
TEST(Net, ABlockerWokenForWorkHandsItsRoleToAWorkerThatWentIdleMeanwhile) {
  namespace hooks = green::detail::test_hooks;
  green_test::ScopedHook before(hooks::idle_before_enter, [] { g_idle_gate.pass(); });
  green_test::ScopedHook entered(hooks::idle_entered, [] { g_entered_gate.pass(); });
  green_test::ScopedHook woke(hooks::blocker_woke, [] { g_woke_gate.pass(); });
  green::run(workers(2), [] {
    auto [a, b] = conn_pair();
    std::atomic<std::thread::id> busy_worker{};
    std::atomic<bool> read{false}, busy_started{false}, busy_stop{false}, computing{false},
        read_while_computing{false}, computed{false}, steps_ok{false};
    auto reader = green::spawn([&, &a = a] {
      char c;
      read = a.read_some(&c, 1).value == 1;
    });
    green::detail::Poller& poller = green::detail::active_scheduler()->poller();
    std::thread driver([&, &b = b] {
      using green_test::wait_on_thread;
      // The reader is parked and one worker blocks in epoll_wait; the other computes.
      if (!wait_on_thread([&] { return poller.has_waiters() && poller.blocker_active(); })) return;
      green::go([&] {
        busy_worker = std::this_thread::get_id();
        busy_started = true;
        green_test::spin_until([&] { return busy_stop.load(); });
      });
      if (!wait_on_thread([&] { return busy_started && poller.blocker_active(); })) return;
      // The computing worker runs out of work and is held before it registers as idle.
      g_idle_gate.arm_for(busy_worker);
      busy_stop = true;
      if (!wait_on_thread([] { return g_idle_gate.holding(); })) return;
      // New work: the only idle worker is the blocker, so it is interrupted; held there.
      g_woke_gate.arm_except(busy_worker);
      if (!wait_on_thread([&] { return poller.blocker_active(); })) return;
      green::go([&, &b = b] {
        computing = true;
        b.write("x", 1);
        read_while_computing = green_test::spin_until([&] { return read.load(); });
        computed = true;
      });
      if (!wait_on_thread([] { return g_woke_gate.holding(); })) return;
      // The other registers as idle while the blocker still holds the role.
      g_entered_gate.arm();
      g_idle_gate.open();
      if (!wait_on_thread([] { return g_entered_gate.holding(); })) return;
      // The blocker leaves idle and takes the new work; then the other looks and sleeps.
      g_woke_gate.open();
      if (!wait_on_thread([&] { return computing.load(); })) return;
      g_entered_gate.open();
      steps_ok = true;
    });
    reader.join();
    driver.join();
    ASSERT_TRUE(steps_ok) << "the interleaving was not reached";
    green_test::wait_in_task([&] { return computed.load(); });
    EXPECT_TRUE(read_while_computing) << "no worker polled while the blocker computed";
  });
}

// Suspected: a blocker woken by a timeout runs the task it woke without handing the
// blocker role on. Refuted: the wake-up of the task wakes the idle worker, which then
// blocks in epoll_wait, so a reader's data is seen while the woken task computes.
TEST(Net, IoIsPolledWhileTheTaskATimeoutWokeComputes) {
  green::run(workers(2), [] {
    auto [a, b] = conn_pair();
    std::atomic<bool> computing{false}, read{false}, read_while_computing{false};
    auto reader = green::spawn([&, &a = a] {
      char c;
      read = a.read_some(&c, 1).value == 1;
    });
    auto sleeper = green::spawn([&] {
      green::this_task::sleep_for(20ms);
      computing = true;
      read_while_computing = green_test::spin_until([&] { return read.load(); });
    });
    std::thread writer([&, &b = b] {
      green_test::wait_on_thread([&] { return computing.load(); });
      ::write(b.fd(), "x", 1);
    });
    reader.join();
    sleeper.join();
    writer.join();
    EXPECT_TRUE(read_while_computing) << "no worker polled while the woken task computed";
  });
}

}  // namespace

TEST(Net, NoConnectionStarvesWhenMoreAreReadyThanTheRunQueueHolds) {
  // 1,000 busy connections on one worker: each poll finds more ready descriptors than a
  // run queue holds. Every connection must keep making progress (a poll that overflowed
  // the queue used to push the oldest tasks behind all later polls, for seconds).
  // Judged by counts, not speed: the window opens only once every task has run (2,000
  // first runs take seconds under TSan, and most tasks wait in the global queue, which
  // a busy worker takes one from per 61 switches), and closes once the connections have
  // made kTarget round trips each on average, however long that takes on this machine.
  constexpr int kConns = 1000 / kScale;
  constexpr long kTarget = 40;
  std::vector<long> rounds(kConns, 0), at_open;
  bool enough = false;
  green::run(workers(1), [&] {
    std::vector<std::pair<Conn, Conn>> pairs;
    for (int i = 0; i < kConns; ++i) pairs.push_back(conn_pair());
    std::atomic<bool> stop{false};
    int started = 0;  // one worker: no task runs concurrently with another
    green::WaitGroup wg;
    for (int i = 0; i < kConns; ++i) {
      wg.add(2);
      green::go([&, i] {  // the echo side
        ++started;
        char c;
        while (pairs[i].first.read_full(&c, 1).value == 1) pairs[i].first.write(&c, 1);
        wg.done();
      });
      green::go([&, i] {  // the client side: one byte out, one back, counted
        ++started;
        char c = 'x';
        while (!stop.load(std::memory_order_relaxed)) {
          if (!pairs[i].second.write(&c, 1) || pairs[i].second.read_full(&c, 1).value != 1) break;
          ++rounds[i];
        }
        pairs[i].second.shutdown_write();
        wg.done();
      });
    }
    EXPECT_TRUE(green_test::wait_in_task([&] { return started == 2 * kConns; })) << "not every task ran";
    at_open = rounds;
    const long opened_total = std::accumulate(at_open.begin(), at_open.end(), 0L);
    enough = green_test::wait_in_task(
        [&] { return std::accumulate(rounds.begin(), rounds.end(), 0L) - opened_total >= kTarget * kConns; });
    stop = true;
    wg.wait();
  });
  ASSERT_TRUE(enough) << "too little traffic to judge";
  std::vector<long> progress(kConns);
  for (int i = 0; i < kConns; ++i) progress[i] = rounds[i] - at_open[i];
  std::sort(progress.begin(), progress.end());
  long median = progress[kConns / 2];
  EXPECT_GT(progress.front(), 0) << "a connection made no progress at all";
  EXPECT_GE(progress.front(), median / 4)
      << "a connection starved: " << progress.front() << " round trips against a median of " << median;
}
