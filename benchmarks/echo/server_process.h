// server_process.h: the echo server process contract (docs/echo-protocol.md) as every C++
// server keeps it: RLIMIT_NOFILE raised (to fs.nr_open where privileged) and reported
// (`nofile N` on stderr), one `listening HOST:PORT` line on stdout once it accepts, and an
// end (exit status 0) when stdin reaches end of file or SIGTERM or SIGINT arrives. Also
// what a C++ server says on stderr when it has to turn a connection away:
// `refused: <bound>`, the limit that bound (`nofile`, `pid_max`, `threads_max`, ...,
// `errno:<NAME>`), which max_conns reads.
//
// Invariant: after start_process_watch() returns, the termination signals are blocked in
// the calling thread and so in every thread it starts later; only the watcher thread takes
// them (signalfd), and it ends the process with _exit, so no server thread is ever
// interrupted and nothing runs after the server decided to stop.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "threads/blocking_socket.h"

namespace greenbench::echo {

inline constexpr int kListenBacklog = 4096;
// How long a server waits before retrying an accept that failed with EMFILE or ENFILE.
inline constexpr std::chrono::milliseconds kAcceptBackoff{10};

// Raises RLIMIT_NOFILE as far as this process may: privileged, both limits to
// fs.nr_open; otherwise the soft limit to the hard one. Returns the soft limit now
// (-1: unlimited).
std::int64_t raise_nofile_limit();

// For a server: raises RLIMIT_NOFILE and writes `nofile N`, ignores SIGPIPE, blocks the
// termination signals and starts the watcher thread that ends the process (status 0) at
// end of stdin or on SIGTERM/SIGINT. Call before any other thread starts.
void start_process_watch();

// Writes `listening HOST:PORT` on stdout and flushes.
void announce_listening(const Address& address);

// Writes `refused: <bound>` to stderr when the bound differs from the last one written.
class RefusalLog {
 public:
  void refused(const std::string& bound);

 private:
  std::string last_;
};

}  // namespace greenbench::echo
