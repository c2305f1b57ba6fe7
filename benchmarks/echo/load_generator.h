// load_generator.h: the echo workload's client: C connections spread over `threads`
// client threads that each run an epoll loop over their share of non-blocking
// connections. Each connection has one request in flight at a time, waits for the whole
// reply, checks it byte for byte and then sends the next one:
// - closed loop (rate 0): at once. The latency of a request is the time from its send to
//   the last byte of its reply, so a stalled server delays the next sends and is charged
//   for one slow request per connection (coordinated omission: the offered load adapts
//   to the server).
// - open loop (rate R > 0): when it is due on the SendSchedule (send_schedule.h, wrk2's
//   method), or at once if it is overdue. The latency of a request is the time from when
//   it was due to the last byte of its reply, so every request a stall held back counts
//   its wait. The client threads sleep until the next due time with a 1 ns timer slack.
//
// The measured window is what lies between begin_window() and end_window(): only replies
// that arrive in it count, as requests and as latency samples (kept exactly: one 32-bit
// sample in nanoseconds per request in a per-thread vector, sorted once at the end; a
// sample past 4.29 s saturates). Connecting (every connection completes one verified
// round trip before the load starts) and the warm-up between start() and begin_window()
// are outside it. The client's CPU time (CLOCK_PROCESS_CPUTIME_ID) and its threads'
// run-queue wait (runnable, not running: /proc/self/task/TID/schedstat) are read at both
// ends of the window. The threads run on the calling thread's CPU mask at start().
//
// Invariant: a reply that differs from its request, a connection the server closes or
// resets, or a window without a single reply fails the run (finish() throws): a broken
// server never produces a figure. Every thread is joined and every connection closed when
// the generator is destroyed, whatever happened. The open loop never sends a request
// before it is due.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "threads/blocking_socket.h"

namespace greenbench::echo {

struct LoadSpec {
  Address server;
  std::int64_t conns = 1;
  std::size_t request_bytes = 64;
  unsigned threads = 1;
  std::int64_t rate = 0;  // open loop: requests per second offered over all connections; 0 closed
};

// A connection could not be made, for `error`: `bound` is the client-side limit
// (client_side_bound) or "" when the server's side must say; `made` connections were
// open before it.
struct ConnectFailure : std::runtime_error {
  ConnectFailure(const std::string& what, std::error_code error, std::string bound, std::int64_t made)
      : std::runtime_error(what), error(error), bound(std::move(bound)), made(made) {}
  std::error_code error;
  std::string bound;
  std::int64_t made;
};

struct LoadFigures {
  std::int64_t requests = 0;      // replies that arrived in the window
  double seconds = 0;             // the window
  double client_cpu_seconds = 0;  // this process, over the window
  // The client threads' run-queue wait over the window, summed; NaN where the kernel
  // keeps no schedstat.
  double client_run_queue_seconds = 0;
  std::vector<std::uint32_t> latency_ns;  // one per request, sorted
  // The nearest-rank percentile (q in (0, 1]) of the latencies.
  double latency_percentile_ns(double q) const;
};

class LoadGenerator {
 public:
  // Opens spec.conns connections, one after another, each verified by one round trip;
  // throws ConnectFailure when one cannot be made.
  explicit LoadGenerator(const LoadSpec& spec);
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;
  ~LoadGenerator();

  void start();         // the client threads begin to send (warm-up)
  void begin_window();  // replies count from now on
  void end_window();    // and no longer; the threads stop
  // Whether a client thread has already stopped on an error (finish() will throw), for
  // a caller that need not wait out the window to know.
  bool failed() const;
  // Joins the threads; throws std::runtime_error naming what went wrong.
  LoadFigures finish();

 private:
  struct ClientThread;
  enum Phase : int { kWarmUp, kMeasuring, kStopped };
  // The client threads' run-queue wait so far, summed, in seconds; NaN when one is unknown.
  double run_queue_seconds() const;

  LoadSpec spec_;
  std::vector<std::unique_ptr<ClientThread>> threads_;
  std::atomic<int> phase_{kWarmUp};
  double window_begin_ = 0, window_end_ = 0;        // steady clock, seconds
  double cpu_begin_ = 0, cpu_end_ = 0;              // process CPU, seconds
  double run_queue_begin_ = 0, run_queue_end_ = 0;  // the threads' run-queue wait, seconds
};

}  // namespace greenbench::echo
