// blocking_socket.h: plain blocking TCP sockets in the shape of green::net (green/net.h):
// the same Address and Result, a Listener whose accept() and a Conn whose read_some() and
// write() block the calling OS thread in the kernel. They are what the OS-thread adapters
// serve connections with (StdThreadRuntime::Net), so the echo workload's accept loop and
// connection handler are one template over green::net and these; the echo load generator
// and event loop take their descriptors from here too (connect, listen), then make them
// non-blocking themselves.
//
// Invariant: every socket is owned by exactly one object and closed exactly once, by
// close() or the destructor; every socket is close-on-exec and every connection has
// TCP_NODELAY set; writes never raise SIGPIPE (MSG_NOSIGNAL).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "green/net.h"

namespace greenbench {

using green::net::Address;
template <class T>
using SocketResult = green::net::Result<T>;

// "127.0.0.1:8080", "[::1]:8080" (numeric only) and back.
std::optional<Address> parse_address(const std::string& text);
std::string address_text(const Address& address);
// 127.0.0.0/8 or ::1.
bool is_loopback(const Address& address);

// A connected stream that blocks its thread. Move-only.
class BlockingConn {
 public:
  BlockingConn() noexcept = default;
  explicit BlockingConn(int fd) noexcept : fd_(fd) {}
  BlockingConn(BlockingConn&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  BlockingConn& operator=(BlockingConn&& o) noexcept;
  ~BlockingConn() { close(); }

  // Some bytes (at most n), blocking until there are any; 0 means end of stream.
  SocketResult<std::size_t> read_some(void* buf, std::size_t n);
  // All n bytes (value holds how many went out before an error).
  SocketResult<std::size_t> write(const void* buf, std::size_t n);

  bool is_open() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }
  // Gives up ownership: the caller closes the descriptor.
  int release() noexcept { return std::exchange(fd_, -1); }
  void close() noexcept;

 private:
  int fd_ = -1;
};

// A listening TCP socket (SO_REUSEADDR; port 0 picks a free port). Move-only.
class BlockingListener {
 public:
  static SocketResult<BlockingListener> listen(const Address& address, int backlog = 4096);
  // The next connection, with TCP_NODELAY set.
  SocketResult<BlockingConn> accept();
  Address local_address() const;

  int fd() const noexcept { return conn_.fd(); }
  int release() noexcept { return conn_.release(); }
  void close() noexcept { conn_.close(); }

 private:
  BlockingConn conn_;  // the descriptor, owned and closed the same way
};

// A TCP connection to `address` with TCP_NODELAY, made by a blocking connect that gives
// up with ETIMEDOUT after `timeout` (zero: the kernel's own SYN retries, minutes).
// `source`, when given, is bound first with IP_BIND_ADDRESS_NO_PORT, so that the port is
// picked at connect time per destination: spreading connections over 127.0.0.1..127.0.0.N
// lifts the limit of one source address's ephemeral port range.
SocketResult<BlockingConn> blocking_connect(const Address& address, std::chrono::milliseconds timeout = {},
                                            const Address* source = nullptr);

// The net half of an OS-thread adapter (the `Net` member of StdThreadRuntime).
struct BlockingSockets {
  using Listener = BlockingListener;
  using Conn = BlockingConn;
  // Waits before retrying an accept that failed for want of a resource (EMFILE).
  static void back_off(std::chrono::milliseconds pause) { std::this_thread::sleep_for(pause); }
};

}  // namespace greenbench
