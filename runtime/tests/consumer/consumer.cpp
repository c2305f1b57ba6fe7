// consumer.cpp: a program of a project outside greenbench, built against green::runtime
// (tests/consumer/CMakeLists.txt). It uses the public API only: run, spawn, join, a
// channel and a wait group. Exits 0 only when every task ran and the sum is right.
#include <cstdio>

#include "green/green.h"

int main() {
  constexpr int kTasks = 100;
  long sum = 0;
  green::Config cfg;
  cfg.workers = 2;
  green::run(cfg, [&] {
    green::Channel<int> ch;
    green::WaitGroup wg;
    wg.add(kTasks);
    for (int i = 1; i <= kTasks; ++i) {
      green::go([&, i] {
        ch.send(i);
        wg.done();
      });
    }
    auto reader = green::spawn([&] {
      for (int i = 0; i < kTasks; ++i) sum += *ch.recv();
    });
    reader.join();
    wg.wait();
  });
  std::printf("consumer: sum %ld\n", sum);
  return sum == kTasks * (kTasks + 1) / 2 ? 0 : 1;
}
