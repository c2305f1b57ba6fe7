// green/net.h: sockets whose blocking calls park the calling task, not its worker thread
// (Go's net package over its netpoller).
//
// Every descriptor is non-blocking and registered once, edge-triggered, with the run's
// epoll instance. A call first tries the system call; on EAGAIN the task parks until the
// poller reports the descriptor ready (or its timeout passes, or another task closes it),
// and meanwhile its worker runs other tasks. Idle workers block in epoll_wait, never spin.
// A parked task whose descriptor is ready runs at once if a worker is idle; otherwise
// within a busy worker's next 61 switches, or at a yield that finds nothing else to run
// (only while every worker computes without switching does it wait).
//
// Rules, as in Go:
//   * Calls that can block are made from inside a task. At most one task reads and one
//     task writes a Conn at a time; close() may come from any task at any time, even
//     while a call on another worker is starting: a task parked on the descriptor then
//     returns errc::closed, and a call that raced the close returns errc::closed too; it
//     never reaches a descriptor opened after the close (a Socket names its descriptor by
//     pointer and sequence number, as Go's pollDesc.fdseq does).
//   * Descriptors belong to the run that opened them: when run() returns, every one still
//     open is closed (their owners' stacks are never resumed, like any abandoned task),
//     and a Conn or Listener that outlives the run is inert.
//   * Timeouts are per call (the whole call, however many system calls it takes);
//     kNoTimeout waits forever. An expired timeout is std::errc::timed_out, delivered
//     on time while any worker is idle, even if the call's own worker is computing.
//
// Invariant: a file descriptor is closed exactly once, after the last call in flight on
// it has returned (close() marks it closing and wakes its waiters; the last one out
// closes it), so a descriptor number is never reused under a running call.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

namespace green {
namespace detail {
struct PollDesc;
}

namespace net {

using Timeout = std::chrono::nanoseconds;
inline constexpr Timeout kNoTimeout = Timeout::max();

// Errors of our own; system errors use std::generic_category (errno values).
enum class errc {
  closed = 1,      // the descriptor was closed (by this or another task)
  unexpected_eof,  // the peer closed before a whole message arrived (read_full)
};
const std::error_category& net_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), net_category()}; }

template <class T>
struct Result {
  T value{};
  std::error_code error;
  explicit operator bool() const noexcept { return !error; }
};

// A numeric IPv4 or IPv6 address and a port ("127.0.0.1", "::1"). No name lookup.
struct Address {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
};

// The socket address of a numeric Address (for code that makes its own sockets); false
// when the host is not a numeric IPv4 or IPv6 address.
bool to_sockaddr(const Address& address, sockaddr_storage& out, socklen_t& length) noexcept;

// An open, registered descriptor: the part Conn and Listener share. Move-only.
class Socket {
 public:
  Socket() noexcept = default;
  Socket(Socket&& o) noexcept
      : pd_(o.pd_.exchange(nullptr, std::memory_order_relaxed)), seq_(o.seq_), run_(o.run_) {}
  Socket& operator=(Socket&& o) noexcept;
  ~Socket() { close(); }

  // Takes ownership of `fd` (any socket or pipe end), makes it non-blocking and registers
  // it with the running scheduler. On error the descriptor is closed.
  static Result<Socket> adopt(int fd);

  bool is_open() const noexcept;
  int fd() const noexcept;  // -1 when closed
  // Closes now, or once the last call in flight returns; wakes tasks parked on it.
  void close() noexcept;

 protected:
  // Atomic because close() may race with a call on another worker. A call validates
  // the pointer with seq_ (the PollDesc may serve another descriptor by then).
  std::atomic<detail::PollDesc*> pd_{nullptr};
  std::uint32_t seq_ = 0;  // the descriptor's sequence number in its PollDesc
  std::uint64_t run_ = 0;  // the run that registered it
  friend Result<class Conn> connect(const Address&, std::chrono::nanoseconds, const Address*);
};

// A connected stream.
class Conn : public Socket {
 public:
  Conn() noexcept = default;
  explicit Conn(Socket&& s) noexcept : Socket(std::move(s)) {}

  // Some bytes (at most n), parking until there are any; 0 means end of stream.
  Result<std::size_t> read_some(void* buf, std::size_t n, Timeout timeout = kNoTimeout);
  // Exactly n bytes. End of stream before any byte returns value 0 with no error; end of
  // stream after some bytes is errc::unexpected_eof. value holds the bytes read.
  Result<std::size_t> read_full(void* buf, std::size_t n, Timeout timeout = kNoTimeout);
  // All n bytes (value holds how many went out before an error).
  Result<std::size_t> write(const void* buf, std::size_t n, Timeout timeout = kNoTimeout);
  // Half-closes the sending side (the peer reads end of stream).
  std::error_code shutdown_write() noexcept;
};

// A listening TCP socket (SO_REUSEADDR; port 0 picks a free port).
class Listener : public Socket {
 public:
  Listener() noexcept = default;
  static Result<Listener> listen(const Address& address, int backlog = 4096);
  // The next connection, with TCP_NODELAY set.
  Result<Conn> accept(Timeout timeout = kNoTimeout);
  Address local_address() const;
};

// A TCP connection to `address`, with TCP_NODELAY set. `source`, when given, is the
// local address to bind first (a port of 0 lets the kernel pick), which lets a client
// spread connections over several loopback addresses past one address's port range.
Result<Conn> connect(const Address& address, Timeout timeout = kNoTimeout, const Address* source = nullptr);

}  // namespace net
}  // namespace green

template <>
struct std::is_error_code_enum<green::net::errc> : std::true_type {};
