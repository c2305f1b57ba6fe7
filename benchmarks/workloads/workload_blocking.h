// workload_blocking.h: the blocking workload: what tasks blocked in system calls that no
// netpoller can park cost the other tasks of the runtime. `blockers:B` tasks each make one
// blocking call after another (yielding between calls, as a task handing its result on
// would) while an independent ping-pong pair passes a token back and forth through
// RT::Event for a fixed window. The calls (`call:`):
//   read       read(2) of one byte from a blocking pipe; a feeder thread outside the
//              runtime writes one byte to every blocker's pipe each millisecond
//   nanosleep  nanosleep(2) of 1 ms
//   fsync      a 4 KiB write to the blocker's own unlinked temporary file (in TMPDIR, else
//              /tmp), then fsync(2); as slow as the file system under TMPDIR makes it
//   via:direct    the task makes the call itself: an OS thread blocks alone, an M:N worker
//                 thread blocks with every task queued on it
//   via:blocking  (greenbench's fibers only) through green::blocking(): a helper thread
//                 makes the call while the task parks
// Per iteration (the pair's figures are the point; the blockers' show they did block):
//   round_trips_per_second          the pair's round trips over the window
//   round_trip_p50_us, round_trip_p99_us, round_trip_max_us   one round trip's latency
//   blocking_calls_per_second       calls the blockers completed
// The window is timed by the pair's first task, from its first round trip; the blockers
// stop after their call in flight when it ends.
//
// Invariant: every round trip counted was timed (one latency sample each), and every
// blocker has returned from its last call before the iteration ends.
#pragma once

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "tasks/task_runtime.h"
#include "workloads/percentile.h"
#include "workloads/timing_support.h"

namespace greenbench {

enum class BlockingCall { read, nanosleep, fsync };
enum class BlockingVia { direct, blocking };

inline const char* blocking_call_name(BlockingCall c) {
  return c == BlockingCall::read ? "read" : c == BlockingCall::nanosleep ? "nanosleep" : "fsync";
}
inline const char* blocking_via_name(BlockingVia v) {
  return v == BlockingVia::direct ? "direct" : "blocking";
}

template <class RT>
concept HasBlocking = requires {
  RT::blocking([] { return 0; });
};

namespace blocking_detail {

inline constexpr std::chrono::milliseconds kCallPeriod{1};

[[noreturn]] inline void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// What one blocker blocks on: its pipe, or its temporary file. Closed by the destructor.
class Blocker {
 public:
  explicit Blocker(BlockingCall call) : call_(call) {
    if (call == BlockingCall::read) {
      if (::pipe2(pipe_, O_CLOEXEC) != 0) fail("pipe2");
    } else if (call == BlockingCall::fsync) {
      const char* dir = std::getenv("TMPDIR");
      std::string path = std::string(dir && *dir ? dir : "/tmp") + "/greenbench-blocking-XXXXXX";
      file_ = ::mkostemp(path.data(), O_CLOEXEC);
      if (file_ < 0) fail("mkostemp");
      ::unlink(path.c_str());  // gone when closed, whatever happens
    }
  }
  ~Blocker() {
    for (int fd : {pipe_[0], pipe_[1], file_}) {
      if (fd >= 0) ::close(fd);
    }
  }
  Blocker(const Blocker&) = delete;
  Blocker& operator=(const Blocker&) = delete;

  // The blocking call; returns 0 (a value, so that blocking() has one to hand back).
  int call() const {
    if (call_ == BlockingCall::read) {
      char byte;
      if (::read(pipe_[0], &byte, 1) != 1) fail("read");
    } else if (call_ == BlockingCall::nanosleep) {
      const timespec period{0, std::chrono::nanoseconds(kCallPeriod).count()};
      ::nanosleep(&period, nullptr);
    } else {
      static const std::string page(4096, 'g');
      if (::write(file_, page.data(), page.size()) != static_cast<ssize_t>(page.size())) fail("write");
      if (::fsync(file_) != 0) fail("fsync");
    }
    return 0;
  }
  // The feeder's side of a read blocker.
  void feed() const {
    const char byte = 1;
    if (::write(pipe_[1], &byte, 1) != 1) fail("write to a blocker's pipe");
  }

 private:
  BlockingCall call_;
  int pipe_[2] = {-1, -1};
  int file_ = -1;
};

}  // namespace blocking_detail

template <TaskRuntime RT>
void blocking_workload(benchmark::State& state, const RT& rt, BlockingCall call, int blockers,
                       BlockingVia via, std::chrono::milliseconds window) {
  using namespace blocking_detail;
  fail_entry_on_exception(state, [&] {
    if constexpr (!HasBlocking<RT>) {
      if (via == BlockingVia::blocking) {
        state.SkipWithError("blocking: via:blocking needs a runtime with blocking()");
        return;
      }
    }
    rt.run([&] {
      IterationCounters counters;
      for (auto _ : state) {
        std::vector<std::unique_ptr<Blocker>> blocked;
        for (int b = 0; b < blockers; ++b) blocked.push_back(std::make_unique<Blocker>(call));
        std::atomic<bool> stop{false};
        std::atomic<int> blockers_left{blockers};
        std::atomic<std::int64_t> calls{0};
        // Feeds the pipes until the last read blocker has returned.
        std::thread feeder;
        if (call == BlockingCall::read && blockers > 0) {
          feeder = std::thread([&] {
            while (blockers_left.load() > 0) {
              for (auto& b : blocked) b->feed();
              std::this_thread::sleep_for(kCallPeriod);
            }
          });
        }
        std::vector<typename RT::Handle> blocker_tasks;
        for (int b = 0; b < blockers; ++b) {
          blocker_tasks.push_back(rt.spawn([&, b] {
            while (!stop.load(std::memory_order_relaxed)) {
              if constexpr (HasBlocking<RT>) {
                if (via == BlockingVia::blocking) {
                  RT::blocking([&] { return blocked[b]->call(); });
                } else {
                  blocked[b]->call();
                }
              } else {
                blocked[b]->call();
              }
              calls.fetch_add(1, std::memory_order_relaxed);
              RT::yield();
            }
            blockers_left.fetch_sub(1);
          }));
        }
        // The pair: `ping` times each round trip, `pong` answers until told to stop.
        std::array<typename RT::Event, 2> wake;
        std::atomic<bool> pair_done{false};
        std::vector<std::uint32_t> rtt_ns;
        Clock::time_point began, ended;
        auto pong = rt.spawn([&] {
          for (;;) {
            wake[1].wait();
            if (pair_done.load(std::memory_order_relaxed)) return;
            wake[0].signal();
          }
        });
        auto ping = rt.spawn([&] {
          rtt_ns.reserve(1 << 20);
          began = Clock::now();
          const Clock::time_point end = began + window;
          for (Clock::time_point sent = began; sent < end;) {
            wake[1].signal();
            wake[0].wait();
            const Clock::time_point back = Clock::now();
            rtt_ns.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(back - sent).count(), UINT32_MAX)));
            sent = back;
          }
          ended = Clock::now();
          pair_done = true;
          stop = true;
          wake[1].signal();
        });
        ping.join();
        pong.join();
        for (auto& t : blocker_tasks) t.join();
        if (feeder.joinable()) feeder.join();
        const double seconds = seconds_between(began, ended);
        state.SetIterationTime(seconds);
        std::sort(rtt_ns.begin(), rtt_ns.end());
        counters.add("round_trips_per_second", static_cast<double>(rtt_ns.size()) / seconds);
        counters.add("round_trip_p50_us", nearest_rank(rtt_ns, 0.50) / 1e3);
        counters.add("round_trip_p99_us", nearest_rank(rtt_ns, 0.99) / 1e3);
        counters.add("round_trip_max_us", static_cast<double>(rtt_ns.back()) / 1e3);
        counters.add("blocking_calls_per_second", static_cast<double>(calls.load()) / seconds);
      }
      counters.publish(state);
    });
  });
}

}  // namespace greenbench
