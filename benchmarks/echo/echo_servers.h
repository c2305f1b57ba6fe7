// echo_servers.h: the echo servers the suite measures, by the runtime part of their entry
// names (docs/results-format.md): how a `--server` value names one, the command line that
// starts one as a child process, and serving as one (the `serve` command).
//
//   std_thread        a thread per connection, blocking sockets (task_per_connection_server.h)
//   fiber/workers:W   a fiber per connection on W workers, green::net (the same template)
//   epoll/loops:L     L epoll event loops, no tasks: the floor (epoll_echo_server.h);
//                     `epoll` alone means loops:1
//   go/procs:P        a goroutine per connection, Go's net package (greenbench-go
//                     echo-server, baselines/go); started as a child, never served here
// Boost.Fiber has no netpoller (a fiber that reads a socket blocks its worker thread), so
// it has no echo server.
//
// Invariant: parse_server(spec.prefix()) == spec for every spec parse_server returns, so a
// name printed in an entry selects the same server again.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "threads/blocking_socket.h"

namespace greenbench::echo {

struct ServerSpec {
  enum class Kind { std_thread, fiber, epoll, go };
  Kind kind = Kind::std_thread;
  unsigned count = 0;  // fiber workers, epoll loops, go procs; 0 for std_thread

  std::string prefix() const;
  bool operator==(const ServerSpec&) const = default;
};

// The server a `--server` value names (counts from 1 to 1024), or nullopt.
std::optional<ServerSpec> parse_server(std::string_view text);

// The command line that starts `spec` listening on `address` under the process contract:
// this program's `serve`, or the Go peer at `go_peer`.
std::vector<std::string> server_command(const ServerSpec& spec, const Address& address,
                                        const std::string& go_peer);

// Runs `spec` (not go) under the process contract on `address`; never returns (the
// process ends at end of stdin or on SIGTERM). Throws std::system_error when it cannot
// listen.
[[noreturn]] void serve(const ServerSpec& spec, const Address& address);

}  // namespace greenbench::echo
