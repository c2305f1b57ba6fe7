// send_schedule.h: the open-loop load generator's timetable (wrk2's method): at an
// offered rate of R requests per second over C connections, request k of connection i
// (counting from 0 once the load starts) is due at
//     start + (k * C + i) / R
// so each connection sends every C / R seconds, the connections take turns, and all of
// them together send one request every 1 / R seconds. A request's latency is counted from
// the time it was due, not from the time it left: a connection still waiting for a late
// reply sends its next request only once that reply is in (one request in flight per
// connection), and the time it spent overdue is part of that request's latency, so a
// server that stalls is charged for every request that should have gone out meanwhile
// (the closed loop's coordinated omission does not hide them).
//
// Invariant: due() is computed in whole nanoseconds from (rate, conns, start, i, k)
// alone (integer arithmetic, rounded down): no drift accumulates however long the run,
// and due(i, k + 1) - due(i, k) is the connection's interval to within a nanosecond.
#pragma once

#include <chrono>
#include <cstdint>

namespace greenbench::echo {

class SendSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  // rate > 0 requests per second over conns > 0 connections, from `start`. Requests
  // numbered up to 9.2e9 (k * conns + conn) keep the arithmetic within 64 bits.
  SendSchedule(std::int64_t rate_per_second, std::int64_t conns, Clock::time_point start)
      : rate_(rate_per_second), conns_(conns), start_(start) {}

  // When request k of connection `conn` is due.
  Clock::time_point due(std::int64_t conn, std::int64_t k) const {
    return start_ + std::chrono::nanoseconds((k * conns_ + conn) * kNanosPerSecond / rate_);
  }

  // The interval between two requests of one connection: conns / rate.
  std::chrono::nanoseconds interval() const {
    return std::chrono::nanoseconds(conns_ * kNanosPerSecond / rate_);
  }

  std::int64_t rate() const { return rate_; }

 private:
  static constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
  std::int64_t rate_;
  std::int64_t conns_;
  Clock::time_point start_;
};

}  // namespace greenbench::echo
