// net.cpp: green/net.h's sockets over the run's netpoller: each call tries its system
// call, and on EAGAIN parks the task on the descriptor (poller.h), then tries again.
//
// Invariant: every call that touches a descriptor holds a reference on its PollDesc for
// the whole call (InFlight), taken under the descriptor's sequence number, so close()
// from another task can neither close the number under a call nor let a call that
// started on a closed Socket reach the PollDesc's next descriptor.
#include "green/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "poller.h"
#include "scheduler.h"
#include "test_hooks.h"

namespace green::net {
namespace {

using detail::Clock;
using detail::IoOutcome;
using detail::PollDesc;
using detail::Poller;

class NetCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "green.net"; }
  std::string message(int e) const override {
    switch (static_cast<errc>(e)) {
      case errc::closed:
        return "use of a closed descriptor";
      case errc::unexpected_eof:
        return "end of stream in the middle of a message";
    }
    return "unknown green.net error";
  }
};

std::error_code last_error() { return {errno, std::generic_category()}; }

// The whole call's deadline, or none.
class Deadline {
 public:
  explicit Deadline(Timeout timeout) {
    if (timeout == kNoTimeout) return;
    // Beyond a century is forever (and would overflow the clock).
    if (timeout > std::chrono::hours(24 * 365 * 100)) return;
    at_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
    set_ = true;
  }
  const Clock::time_point* get() const noexcept { return set_ ? &at_ : nullptr; }

 private:
  Clock::time_point at_{};
  bool set_ = false;
};

// The poller of the run `run`, if that run is the one going on.
Poller* poller_of(std::uint64_t run) noexcept {
  detail::Scheduler* s = detail::active_scheduler();
  return s && s->run_id() == run ? &s->poller() : nullptr;
}

// A reference on a descriptor for the length of one call (see the invariant above).
class InFlight {
 public:
  InFlight(PollDesc* pd, std::uint32_t seq, std::uint64_t run) noexcept {
    Poller* p = pd ? poller_of(run) : nullptr;
    GREEN_TEST_HOOK(net_call_loaded_desc);
    if (p && p->acquire(pd, seq)) {
      poller_ = p;
      pd_ = pd;
    }
  }
  ~InFlight() {
    if (poller_) poller_->release(pd_);
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  explicit operator bool() const noexcept { return poller_ != nullptr; }
  int fd() const noexcept { return pd_->fd; }
  bool is_socket() const noexcept { return pd_->is_socket; }

  // After EAGAIN: parks until the side is ready; an error ends the call.
  std::error_code wait(int side, const Deadline& deadline) {
    switch (poller_->wait(pd_, side, deadline.get())) {
      case IoOutcome::ready:
        return {};
      case IoOutcome::timed_out:
        return std::make_error_code(std::errc::timed_out);
      case IoOutcome::closed:
        return errc::closed;
    }
    return errc::closed;
  }

 private:
  Poller* poller_ = nullptr;
  PollDesc* pd_ = nullptr;
};

// One read of at most n bytes, parking while there is nothing; 0 is end of stream.
Result<std::size_t> read_once(InFlight& call, void* buf, std::size_t n, const Deadline& deadline) {
  for (;;) {
    ssize_t r = ::read(call.fd(), buf, n);
    if (r >= 0) return {static_cast<std::size_t>(r), {}};
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return {0, last_error()};
    if (auto ec = call.wait(PollDesc::kRead, deadline)) return {0, ec};
  }
}

// A fresh non-blocking stream socket for `family`, registered with the run.
Result<Socket> stream_socket(int family) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return {{}, last_error()};
  return Socket::adopt(fd);
}

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

bool to_sockaddr(const Address& a, sockaddr_storage& out, socklen_t& len) noexcept {
  std::memset(&out, 0, sizeof out);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (::inet_pton(AF_INET, a.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(a.port);
    len = sizeof *v4;
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (::inet_pton(AF_INET6, a.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(a.port);
    len = sizeof *v6;
    return true;
  }
  return false;
}

const std::error_category& net_category() noexcept {
  static const NetCategory category;
  return category;
}

// ---- Socket ---------------------------------------------------------------------------

Result<Socket> Socket::adopt(int fd) {
  detail::Scheduler* s = detail::active_scheduler();
  if (!s) {
    ::close(fd);
    return {{}, std::make_error_code(std::errc::operation_not_permitted)};
  }
  std::error_code error;
  Result<Socket> r;
  r.value.pd_.store(s->poller().open(fd, r.value.seq_, error), std::memory_order_relaxed);
  r.value.run_ = s->run_id();
  r.error = error;
  return r;
}

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    close();
    pd_.store(o.pd_.exchange(nullptr, std::memory_order_relaxed), std::memory_order_relaxed);
    seq_ = o.seq_;
    run_ = o.run_;
  }
  return *this;
}

bool Socket::is_open() const noexcept { return pd_.load(std::memory_order_relaxed) && poller_of(run_); }

int Socket::fd() const noexcept { return is_open() ? pd_.load(std::memory_order_relaxed)->fd : -1; }

void Socket::close() noexcept {
  PollDesc* pd = pd_.exchange(nullptr, std::memory_order_relaxed);
  if (!pd) return;
  if (Poller* p = poller_of(run_)) p->close(pd, seq_);  // else the run closed it at its end
}

// ---- Conn -----------------------------------------------------------------------------

Result<std::size_t> Conn::read_some(void* buf, std::size_t n, Timeout timeout) {
  InFlight call(pd_.load(std::memory_order_relaxed), seq_, run_);
  if (!call) return {0, errc::closed};
  return read_once(call, buf, n, Deadline(timeout));
}

Result<std::size_t> Conn::read_full(void* buf, std::size_t n, Timeout timeout) {
  InFlight call(pd_.load(std::memory_order_relaxed), seq_, run_);
  if (!call) return {0, errc::closed};
  Deadline deadline(timeout);
  std::size_t done = 0;
  while (done < n) {
    Result<std::size_t> r = read_once(call, static_cast<char*>(buf) + done, n - done, deadline);
    if (!r) return {done, r.error};
    if (r.value == 0) return {done, done == 0 ? std::error_code{} : std::error_code(errc::unexpected_eof)};
    done += r.value;
  }
  return {done, {}};
}

Result<std::size_t> Conn::write(const void* buf, std::size_t n, Timeout timeout) {
  InFlight call(pd_.load(std::memory_order_relaxed), seq_, run_);
  if (!call) return {0, errc::closed};
  Deadline deadline(timeout);
  std::size_t done = 0;
  while (done < n) {
    const char* p = static_cast<const char*>(buf) + done;
    // Sockets never raise SIGPIPE: a reset peer is an EPIPE error, as in Go.
    ssize_t r =
        call.is_socket() ? ::send(call.fd(), p, n - done, MSG_NOSIGNAL) : ::write(call.fd(), p, n - done);
    if (r >= 0) {
      done += static_cast<std::size_t>(r);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return {done, last_error()};
    if (auto ec = call.wait(PollDesc::kWrite, deadline)) return {done, ec};
  }
  return {done, {}};
}

std::error_code Conn::shutdown_write() noexcept {
  InFlight call(pd_.load(std::memory_order_relaxed), seq_, run_);
  if (!call) return errc::closed;
  return ::shutdown(call.fd(), SHUT_WR) == 0 ? std::error_code{} : last_error();
}

// ---- Listener and connect ---------------------------------------------------------------

Result<Listener> Listener::listen(const Address& address, int backlog) {
  sockaddr_storage sa;
  socklen_t len;
  if (!to_sockaddr(address, sa, len)) return {{}, std::make_error_code(std::errc::invalid_argument)};
  Result<Socket> s = stream_socket(sa.ss_family);
  if (!s) return {{}, s.error};
  int fd = s.value.fd();
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 || ::listen(fd, backlog) != 0) {
    return {{}, last_error()};
  }
  Result<Listener> r;
  static_cast<Socket&>(r.value) = std::move(s.value);
  return r;
}

Result<Conn> Listener::accept(Timeout timeout) {
  InFlight call(pd_.load(std::memory_order_relaxed), seq_, run_);
  if (!call) return {{}, errc::closed};
  Deadline deadline(timeout);
  for (;;) {
    int fd = ::accept4(call.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      set_nodelay(fd);
      Result<Socket> s = Socket::adopt(fd);
      return {Conn(std::move(s.value)), s.error};
    }
    // A connection reset while queued is the next one's business, as in Go.
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN) return {{}, last_error()};
    if (auto ec = call.wait(PollDesc::kRead, deadline)) return {{}, ec};
  }
}

Address Listener::local_address() const {
  Address a{"", 0};
  sockaddr_storage sa;
  socklen_t len = sizeof sa;
  if (!is_open() || ::getsockname(fd(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) return a;
  char text[INET6_ADDRSTRLEN] = "";
  if (sa.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&sa);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    a.port = ntohs(v4->sin_port);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&sa);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    a.port = ntohs(v6->sin6_port);
  }
  a.host = text;
  return a;
}

Result<Conn> connect(const Address& address, Timeout timeout, const Address* source) {
  sockaddr_storage sa;
  socklen_t len;
  if (!to_sockaddr(address, sa, len)) return {{}, std::make_error_code(std::errc::invalid_argument)};
  Result<Socket> s = stream_socket(sa.ss_family);
  if (!s) return {{}, s.error};
  Conn conn(std::move(s.value));
  int fd = conn.fd();
  if (source) {
    sockaddr_storage local;
    socklen_t local_len;
    if (!to_sockaddr(*source, local, local_len))
      return {{}, std::make_error_code(std::errc::invalid_argument)};
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), local_len) != 0) return {{}, last_error()};
  }
  set_nodelay(fd);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) == 0) return {std::move(conn), {}};
  if (errno != EINPROGRESS) return {{}, last_error()};
  // Writable means the handshake ended, one way or the other; SO_ERROR says which.
  {
    InFlight call(conn.pd_.load(std::memory_order_relaxed), conn.seq_, conn.run_);
    if (!call) return {{}, errc::closed};
    Deadline deadline(timeout);
    for (;;) {
      if (auto ec = call.wait(PollDesc::kWrite, deadline)) return {{}, ec};
      int err = 0;
      socklen_t elen = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
      if (err != 0) return {{}, {err, std::generic_category()}};
      // No error yet may also mean not connected yet: an unconnected socket reports
      // itself writable when it is registered, before connect() is even called.
      sockaddr_storage peer;
      socklen_t peer_len = sizeof peer;
      if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0) break;
    }
  }
  return {std::move(conn), {}};
}

}  // namespace green::net
