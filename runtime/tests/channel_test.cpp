// channel_test.cpp: Channel<T> ordering, capacity, close, and wake-ups across workers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "green/green.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;

constexpr int kScale = green_test::kSanitized ? 20 : 1;

using green_test::workers;

TEST(Channel, BufferedKeepsFifoOrder) {
  green::run(workers(1), [] {
    green::Channel<int> ch(100);
    for (int i = 0; i < 100; ++i) ch.send(i);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(ch.recv(), i);
  });
}

TEST(Channel, OrderIsKeptPerSenderAcrossWorkers) {
  green::run(workers(3), [] {
    green::Channel<std::pair<int, int>> ch(8);
    const int per = 10'000 / kScale;
    for (int s = 0; s < 3; ++s) {
      green::go([&ch, s, per] {
        for (int i = 0; i < per; ++i) ch.send({s, i});
      });
    }
    int next[3] = {0, 0, 0};
    for (int k = 0; k < 3 * per; ++k) {
      auto [s, i] = *ch.recv();
      ASSERT_EQ(i, next[s]) << "sender " << s << " reordered";
      ++next[s];
    }
  });
}

TEST(Channel, SendBlocksWhenTheBufferIsFull) {
  green::run(workers(1), [] {
    green::Channel<int> ch(2);
    std::atomic<int> sent{0};
    auto sender = green::spawn([&] {
      for (int i = 0; i < 5; ++i) {
        ch.send(i);
        sent.fetch_add(1);
      }
    });
    green::this_task::sleep_for(5ms);
    EXPECT_EQ(sent.load(), 2) << "capacity 2 must hold exactly 2 unreceived values";
    for (int i = 0; i < 5; ++i) EXPECT_EQ(ch.recv(), i);
    sender.join();
    EXPECT_EQ(sent.load(), 5);
  });
}

TEST(Channel, UnbufferedSendWaitsForAReceiver) {
  green::run(workers(1), [] {
    green::Channel<int> ch;
    bool sent = false;
    auto sender = green::spawn([&] {
      ch.send(1);
      sent = true;
    });
    green::this_task::sleep_for(5ms);
    EXPECT_FALSE(sent) << "an unbuffered send completed with no receiver";
    EXPECT_EQ(ch.recv(), 1);
    sender.join();
    EXPECT_TRUE(sent);
  });
}

TEST(Channel, TryFormsNeverBlock) {
  green::run(workers(1), [] {
    green::Channel<int> ch(1);
    EXPECT_EQ(ch.try_recv(), std::nullopt);
    int v = 3;
    EXPECT_TRUE(ch.try_send(v));
    EXPECT_FALSE(ch.try_send(v));
    EXPECT_EQ(ch.try_recv(), 3);
  });
}

TEST(Channel, CloseDrainsTheBufferThenYieldsNullopt) {
  green::run(workers(1), [] {
    green::Channel<int> ch(3);
    ch.send(1);
    ch.send(2);
    ch.close();
    EXPECT_EQ(ch.recv(), 1);
    EXPECT_EQ(ch.recv(), 2);
    EXPECT_EQ(ch.recv(), std::nullopt);
    EXPECT_THROW(ch.send(3), green::ChannelClosed);
    EXPECT_THROW(ch.close(), green::ChannelClosed);
  });
}

TEST(Channel, CloseWakesEveryBlockedReceiverAndSender) {
  green::run(workers(2), [] {
    green::Channel<int> recv_side;
    green::Channel<int> send_side;
    std::atomic<int> receivers_woken{0}, senders_woken{0};
    std::vector<green::JoinHandle<void>> hs;
    for (int i = 0; i < 50; ++i) {
      hs.push_back(green::spawn([&] {
        if (!recv_side.recv()) receivers_woken.fetch_add(1);
      }));
      hs.push_back(green::spawn([&] {
        try {
          send_side.send(1);
        } catch (const green::ChannelClosed&) {
          senders_woken.fetch_add(1);
        }
      }));
    }
    green::this_task::sleep_for(10ms);
    recv_side.close();
    send_side.close();
    for (auto& h : hs) h.join();
    EXPECT_EQ(receivers_woken.load(), 50);
    EXPECT_EQ(senders_woken.load(), 50);
  });
}

TEST(Channel, MoveOnlyValuesPassThrough) {
  green::run(workers(2), [] {
    green::Channel<std::unique_ptr<int>> ch;
    auto h = green::spawn([&] { ch.send(std::make_unique<int>(9)); });
    auto v = ch.recv();
    ASSERT_TRUE(v && *v);
    EXPECT_EQ(**v, 9);
    h.join();
  });
}

// No lost wake-up across workers: a million ping-pongs between two tasks on different
// workers over unbuffered channels. A lost wake-up hangs (ctest's timeout fails it).
TEST(Channel, NoLostWakeupOverAMillionPingPongs) {
  const int rounds = 1'000'000 / kScale;
  green::run(workers(2), [&] {
    green::Channel<int> ping, pong;
    auto peer = green::spawn([&] {
      for (int i = 0; i < rounds; ++i) pong.send(*ping.recv() + 1);
    });
    int v = 0;
    for (int i = 0; i < rounds; ++i) {
      ping.send(v);
      v = *pong.recv();
    }
    peer.join();
    EXPECT_EQ(v, rounds);
  });
}

}  // namespace
