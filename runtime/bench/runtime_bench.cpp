// runtime_bench.cpp: the runtime's own speed marks (Google Benchmark), beside the floor
// they stand on, the raw Boost.Context switch. Not a test: figures, not pass/fail.
//
//   fcontext_switch            one jump_fcontext, one way, in a loop with no returns (the
//                              floor Boost.Context publishes)
//   fcontext_switch_returning  the same jump made from a function that returns, as every
//                              real yield is: after a switch the CPU's return-address
//                              stack belongs to the other stack, so that return is
//                              mispredicted (the realistic floor for a yield)
//   spawn_join/workers:W       spawn an empty fiber and join it, one at a time
//   yield_switch/workers:1     two fibers yielding to each other: ns per switch
//   maybe_yield/workers:1      this_task::maybe_yield() within the slice: ns per call
//   handoff_switch/workers:1   two fibers passing a token through an unbuffered Channel
//   parked_fiber_memory        resident bytes per parked fiber (RSS delta / N)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <boost/context/detail/fcontext.hpp>
#include <chrono>
#include <fstream>

#include "green/green.h"

namespace {

namespace fctx = boost::context::detail;

green::Config workers(unsigned n) {
  green::Config c;
  c.workers = n;
  return c;
}

// The floor: a context that jumps straight back. Two jumps per loop turn.
void bounce(fctx::transfer_t t) {
  for (;;) t = fctx::jump_fcontext(t.fctx, nullptr);
}

void BM_fcontext_switch(benchmark::State& state) {
  static char stack[64 * 1024];
  fctx::fcontext_t other = fctx::make_fcontext(stack + sizeof stack, sizeof stack, bounce);
  for (auto _ : state) {
    other = fctx::jump_fcontext(other, nullptr).fctx;
    benchmark::DoNotOptimize(other);
  }
  state.counters["ns_per_switch"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_fcontext_switch)->Name("fcontext_switch");

fctx::fcontext_t returning_peer;
__attribute__((noinline)) void switch_and_return() {
  returning_peer = fctx::jump_fcontext(returning_peer, nullptr).fctx;
  benchmark::ClobberMemory();
}
void bounce_returning(fctx::transfer_t t) {
  returning_peer = t.fctx;
  for (;;) switch_and_return();
}

void BM_fcontext_switch_returning(benchmark::State& state) {
  static char stack[64 * 1024];
  returning_peer = fctx::make_fcontext(stack + sizeof stack, sizeof stack, bounce_returning);
  switch_and_return();
  for (auto _ : state) switch_and_return();
  state.counters["ns_per_switch"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_fcontext_switch_returning)->Name("fcontext_switch_returning");

void BM_spawn_join(benchmark::State& state) {
  green::run(workers(static_cast<unsigned>(state.range(0))), [&] {
    for (auto _ : state) {
      auto h = green::spawn([] { return 1; });
      benchmark::DoNotOptimize(h.join());
    }
  });
}
BENCHMARK(BM_spawn_join)->Name("spawn_join/workers")->Arg(1)->Arg(2)->UseRealTime();

void BM_yield_switch(benchmark::State& state) {
  green::run(workers(1), [&] {
    bool stop = false;
    auto other = green::spawn([&] {
      while (!stop) green::this_task::yield();
    });
    green::this_task::yield();  // let it start
    for (auto _ : state) green::this_task::yield();
    stop = true;
    other.join();
  });
  // Each yield of ours is followed by one of the other fiber: two switches per turn.
  state.counters["ns_per_switch"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_yield_switch)->Name("yield_switch/workers:1");

// A task that computes and checks its slice: the check when the slice is not spent (a
// time-stamp counter read on x86-64). Alone on its worker, so a spent slice's yield
// returns at once; with the default 1 ms slice that is one in many thousand calls.
void BM_maybe_yield(benchmark::State& state) {
  green::run(workers(1), [&] {
    for (auto _ : state) green::this_task::maybe_yield();
  });
  state.counters["ns_per_call"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_maybe_yield)->Name("maybe_yield/workers:1");

void BM_handoff_switch(benchmark::State& state) {
  green::run(workers(1), [&] {
    green::Channel<int> ping, pong;
    auto peer = green::spawn([&] {
      while (auto v = ping.recv()) pong.send(*v);
    });
    int token = 0;
    for (auto _ : state) {
      ping.send(token);
      token = *pong.recv();
    }
    ping.close();
    peer.join();
    benchmark::DoNotOptimize(token);
  });
  state.counters["ns_per_switch"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_handoff_switch)->Name("handoff_switch/workers:1");

long resident_bytes() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

void BM_parked_fiber_memory(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  double per_fiber = 0;
  for (auto _ : state) {
    green::run(workers(1), [&] {
      green::WaitGroup gate(1), parked(n);
      long before = resident_bytes();
      for (int i = 0; i < n; ++i)
        green::go([&] {
          parked.done();
          gate.wait();
        });
      parked.wait();
      per_fiber = static_cast<double>(resident_bytes() - before) / n;
      gate.done();
    });
  }
  state.counters["rss_bytes_per_fiber"] = per_fiber;
}
BENCHMARK(BM_parked_fiber_memory)
    ->Name("parked_fiber_memory/n")
    ->Arg(100'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
