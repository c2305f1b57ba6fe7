// echo_client.h: what every client of the echo servers does the same way: the bytes of a
// request, opening a connection that has completed one verified round trip, spreading
// connections over loopback source addresses, and naming the client-side limit that
// stopped a connection from being made.
//
// A request of `n` bytes for connection `conn`, number `seq`: byte 0 is 'e' (never 'G', so
// every server takes the connection for echo mode, docs/echo-protocol.md), then the
// connection and request numbers and a filler that depends on both, so a reply that
// comes back from the wrong connection, out of order or altered differs from its request.
//
// Invariant: a connection ConnectionOpener::open() returns has echoed one request exactly
// (so the server accepted it and a task, thread or event loop serves it); every other
// outcome leaves no descriptor open.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

#include "threads/blocking_socket.h"

namespace greenbench::echo {

void fill_request(char* out, std::size_t n, std::uint32_t conn, std::uint64_t seq);

// Where opening a connection stopped.
enum class OpenStage { connect, round_trip };

struct Opened {
  BlockingConn conn;  // open only on success
  std::error_code error;
  OpenStage stage = OpenStage::connect;
  explicit operator bool() const { return !error; }
};

class ConnectionOpener {
 public:
  ConnectionOpener(Address server, std::size_t request_bytes);

  // A connection that has echoed request 0 of `conn` within `timeout` (ETIMEDOUT when it
  // did not). An IPv4 loopback server is connected to from 127.0.0.1, then, once that
  // address's ephemeral ports run out (EADDRNOTAVAIL), from 127.0.0.2 and on up to
  // 127.0.0.254.
  Opened open(std::uint32_t conn, std::chrono::milliseconds timeout);

 private:
  Address server_;
  std::size_t request_bytes_;
  bool spread_sources_;
  unsigned source_ = 1;  // the last byte of the 127.0.0.x source address in use
};

// The client-side limit an error of opening a connection stands for: "nofile" (EMFILE,
// ENFILE), "ports" (EADDRNOTAVAIL once every source address is used up); "" when the
// error came from the server's side (reset, closed, timed out) and the server must say.
std::string client_side_bound(const std::error_code& error);

// "errno:ECONNRESET" and the like.
std::string errno_bound(int error);

}  // namespace greenbench::echo
