// load_generator.cpp: the client threads, closed and open loop (see load_generator.h).
#include "echo/load_generator.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <functional>
#include <limits>
#include <optional>
#include <queue>
#include <system_error>
#include <thread>

#include "echo/echo_client.h"
#include "echo/send_schedule.h"
#include "harness/procfs.h"

namespace greenbench::echo {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kOpenTimeout{5000};
constexpr int kEventsPerWait = 512;
constexpr std::chrono::milliseconds kWait{50};  // how soon a thread notices the end of the run
constexpr std::size_t kSamplesReserved = std::size_t{1} << 18;

double now_seconds() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

double process_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

timespec to_timespec(Clock::duration d) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::max(d, Clock::duration::zero()));
  return {static_cast<time_t>(ns.count() / 1'000'000'000), static_cast<long>(ns.count() % 1'000'000'000)};
}

}  // namespace

struct LoadGenerator::ClientThread {
  struct Conn {
    int fd = -1;
    std::uint32_t id = 0;
    std::uint64_t seq = 1;  // request 0 was the verifying round trip
    std::size_t sent = 0, received = 0;
    bool waits_to_send = false;
    Clock::time_point timed_from;  // closed loop: when the request was sent; open: when it was due
  };

  ClientThread(std::size_t request_bytes, std::int64_t rate)
      : request_bytes(request_bytes), rate(rate), epoll(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  }
  ~ClientThread() {
    for (const Conn& conn : conns) ::close(conn.fd);
    ::close(epoll);
  }

  void add(int fd, std::uint32_t id) {
    Conn& conn = conns.emplace_back();
    conn.fd = fd;
    conn.id = id;
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u32 = static_cast<std::uint32_t>(conns.size() - 1);
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
      throw std::system_error(errno, std::generic_category(), "epoll_ctl");
    }
  }

  // `total_conns` over all threads: the schedule's C.
  void run(const std::atomic<int>& phase, std::int64_t total_conns) {
    tid.store(::gettid(), std::memory_order_release);
    requests.resize(conns.size() * request_bytes);
    replies.resize(conns.size() * request_bytes);
    samples.reserve(kSamplesReserved);
    const Clock::time_point began = Clock::now();
    if (rate > 0) {
      ::prctl(PR_SET_TIMERSLACK, 1UL);  // wake when a request is due, not up to 50 µs later
      schedule.emplace(rate, total_conns, began);
      for (std::size_t i = 0; i < conns.size(); ++i) not_yet_due.push({schedule->due(conns[i].id, 0), i});
    } else {
      for (std::size_t i = 0; i < conns.size(); ++i) {
        if (!send_request(i, began)) return;
      }
    }
    epoll_event events[kEventsPerWait];
    while (phase.load(std::memory_order_relaxed) != kStopped) {
      Clock::duration wait = kWait;
      if (schedule && !send_due(wait)) return;
      const timespec timeout = to_timespec(wait);
      const int ready = ::epoll_pwait2(epoll, events, kEventsPerWait, &timeout, nullptr);
      if (ready < 0 && errno != EINTR) {
        fail(errno_text("epoll_pwait2"));
        return;
      }
      for (int e = 0; e < ready; ++e) {
        const std::size_t i = events[e].data.u32;
        if (conns[i].waits_to_send && !send_rest(i)) return;
        if ((events[e].events & ~EPOLLOUT) && !receive(i, phase)) return;
      }
    }
  }

  // Open loop: sends every request now due; `wait` becomes the time to the next one, if
  // sooner. False when the run must stop (error set).
  bool send_due(Clock::duration& wait) {
    const Clock::time_point now = Clock::now();
    while (!not_yet_due.empty() && not_yet_due.top().first <= now) {
      const auto [due, i] = not_yet_due.top();
      not_yet_due.pop();
      if (!send_request(i, due)) return false;
    }
    if (!not_yet_due.empty()) wait = std::min(wait, not_yet_due.top().first - now);
    return true;
  }

  // Reads what has come of conn i's reply; once whole, checks it, counts it and sends the
  // next request. False when the run must stop (error set).
  bool receive(std::size_t i, const std::atomic<int>& phase) {
    Conn& conn = conns[i];
    char* reply = &replies[i * request_bytes];
    const ssize_t got = ::recv(conn.fd, reply + conn.received, request_bytes - conn.received, 0);
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) return true;
      return fail(errno_text("recv"));
    }
    if (got == 0) return fail("the server closed connection " + std::to_string(conn.id));
    conn.received += static_cast<std::size_t>(got);
    if (conn.received < request_bytes) return true;
    const Clock::time_point now = Clock::now();
    if (std::memcmp(reply, &requests[i * request_bytes], request_bytes) != 0) {
      return fail("the reply to request " + std::to_string(conn.seq) + " of connection " +
                  std::to_string(conn.id) + " differs from the request: the server does not echo");
    }
    if (phase.load(std::memory_order_relaxed) == kMeasuring) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - conn.timed_from).count();
      samples.push_back(
          static_cast<std::uint32_t>(std::min<std::int64_t>(ns, std::numeric_limits<std::uint32_t>::max())));
    }
    conn.received = 0;
    ++conn.seq;
    if (!schedule) return send_request(i, now);
    // Request seq is the connection's (seq - 1)th scheduled one: seq 0 was the verifying
    // round trip. Overdue (the last reply came late): at once, timed from when it was due.
    const Clock::time_point due = schedule->due(conn.id, static_cast<std::int64_t>(conn.seq) - 1);
    if (due <= now) return send_request(i, due);
    not_yet_due.push({due, i});
    return true;
  }

  // Starts conn i's next request; its latency will be counted from `timed_from`.
  bool send_request(std::size_t i, Clock::time_point timed_from) {
    Conn& conn = conns[i];
    fill_request(&requests[i * request_bytes], request_bytes, conn.id, conn.seq);
    conn.timed_from = timed_from;
    conn.sent = 0;
    return send_rest(i);
  }

  // Sends what the socket takes of conn i's request; waits for EPOLLOUT for the rest.
  bool send_rest(std::size_t i) {
    Conn& conn = conns[i];
    while (conn.sent < request_bytes) {
      const ssize_t put =
          ::send(conn.fd, &requests[i * request_bytes + conn.sent], request_bytes - conn.sent, MSG_NOSIGNAL);
      if (put >= 0) {
        conn.sent += static_cast<std::size_t>(put);
      } else if (errno == EAGAIN) {
        return conn.waits_to_send || watch(i, EPOLLIN | EPOLLOUT, true);
      } else if (errno != EINTR) {
        return fail(errno_text("send"));
      }
    }
    return !conn.waits_to_send || watch(i, EPOLLIN, false);
  }

  bool watch(std::size_t i, std::uint32_t events, bool waits_to_send) {
    epoll_event event{};
    event.events = events;
    event.data.u32 = static_cast<std::uint32_t>(i);
    if (::epoll_ctl(epoll, EPOLL_CTL_MOD, conns[i].fd, &event) != 0) return fail(errno_text("epoll_ctl"));
    conns[i].waits_to_send = waits_to_send;
    return true;
  }

  bool fail(std::string what) {
    error = std::move(what);
    failed.store(true, std::memory_order_release);
    return false;
  }

  const std::size_t request_bytes;
  const std::int64_t rate;  // open loop's offered requests per second (all threads); 0: closed loop
  const int epoll;
  std::vector<Conn> conns;
  std::optional<SendSchedule> schedule;                                    // open loop only
  using Due = std::pair<Clock::time_point, std::size_t>;                   // (when, index in conns)
  std::priority_queue<Due, std::vector<Due>, std::greater<>> not_yet_due;  // open loop: earliest first
  std::vector<char> requests, replies;  // request_bytes per connection, in conns' order
  std::vector<std::uint32_t> samples;   // replies in the window, latency in ns
  std::string error;                    // why the thread stopped early
  std::atomic<bool> failed{false};      // error is set (written before, read after)
  std::atomic<long> tid{0};             // the thread's kernel id, once it runs
  std::thread thread;
};

double LoadGenerator::run_queue_seconds() const {
  double total = 0;
  for (const auto& thread : threads_) {
    const std::int64_t ns = run_queue_wait_ns(thread->tid.load(std::memory_order_acquire));
    if (ns < 0) return NAN;
    total += static_cast<double>(ns) * 1e-9;
  }
  return total;
}

double LoadFigures::latency_percentile_ns(double q) const {
  if (latency_ns.empty()) return NAN;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(latency_ns.size())));
  return latency_ns[std::clamp<std::size_t>(rank, 1, latency_ns.size()) - 1];
}

LoadGenerator::LoadGenerator(const LoadSpec& spec) : spec_(spec) {
  for (unsigned t = 0; t < spec.threads; ++t) {
    threads_.push_back(std::make_unique<ClientThread>(spec.request_bytes, spec.rate));
  }
  ConnectionOpener opener(spec.server, spec.request_bytes);
  for (std::int64_t i = 0; i < spec.conns; ++i) {
    Opened opened = opener.open(static_cast<std::uint32_t>(i), kOpenTimeout);
    if (opened.error == std::errc::bad_message) {
      throw std::runtime_error("connection " + std::to_string(i) +
                               ": the first reply differs from its request: the server does not echo");
    }
    if (!opened) {
      throw ConnectFailure("connection " + std::to_string(i + 1) + " of " + std::to_string(spec.conns) +
                               ": " + (opened.stage == OpenStage::connect ? "connect" : "first round trip") +
                               ": " + opened.error.message(),
                           opened.error, client_side_bound(opened.error), i);
    }
    const int fd = opened.conn.release();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    threads_[static_cast<std::size_t>(i) % threads_.size()]->add(fd, static_cast<std::uint32_t>(i));
  }
}

LoadGenerator::~LoadGenerator() {
  phase_.store(kStopped);
  for (auto& thread : threads_) {
    if (thread->thread.joinable()) thread->thread.join();
  }
}

void LoadGenerator::start() {
  for (auto& thread : threads_) {
    thread->thread = std::thread([this, &t = *thread] { t.run(phase_, spec_.conns); });
  }
  for (auto& thread : threads_) {  // their ids, for the run-queue readings
    while (thread->tid.load(std::memory_order_acquire) == 0) std::this_thread::yield();
  }
}

void LoadGenerator::begin_window() {
  run_queue_begin_ = run_queue_seconds();
  cpu_begin_ = process_cpu_seconds();
  window_begin_ = now_seconds();
  phase_.store(kMeasuring, std::memory_order_relaxed);
}

void LoadGenerator::end_window() {
  run_queue_end_ = run_queue_seconds();  // while the threads still run
  phase_.store(kStopped, std::memory_order_relaxed);
  window_end_ = now_seconds();
  cpu_end_ = process_cpu_seconds();
}

bool LoadGenerator::failed() const {
  for (const auto& thread : threads_) {
    if (thread->failed.load(std::memory_order_acquire)) return true;
  }
  return false;
}

LoadFigures LoadGenerator::finish() {
  LoadFigures figures;
  for (auto& thread : threads_) {
    if (thread->thread.joinable()) thread->thread.join();
    if (!thread->error.empty()) throw std::runtime_error(thread->error);
    figures.latency_ns.insert(figures.latency_ns.end(), thread->samples.begin(), thread->samples.end());
  }
  std::sort(figures.latency_ns.begin(), figures.latency_ns.end());
  figures.requests = static_cast<std::int64_t>(figures.latency_ns.size());
  figures.seconds = window_end_ - window_begin_;
  figures.client_cpu_seconds = cpu_end_ - cpu_begin_;
  figures.client_run_queue_seconds = run_queue_end_ - run_queue_begin_;
  if (figures.requests == 0) {
    throw std::runtime_error("no reply arrived in the " + std::to_string(figures.seconds) +
                             " s window: the server is stalled");
  }
  return figures;
}

}  // namespace greenbench::echo
