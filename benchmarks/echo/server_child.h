// server_child.h: an echo server run as a child process under the process contract
// (docs/echo-protocol.md), as `run` and `max_conns` start it: a fresh one for each
// measurement, its stdin a pipe this process holds (closing it ends the server), its
// `listening HOST:PORT` line awaited, its stderr kept in an unlinked temporary file (it
// never blocks on a full pipe; we read back `nofile N` and `refused: <bound>` from it),
// on the CPUs it is given (all its threads: the mask is set before exec), and what /proc
// says of it: resident memory, CPU time, descriptors, limits.
//
// Invariant: no server outlives what started it. The destructor closes its stdin, gives
// it kStopGrace to exit and then kills it, and reaps it; a signal that ends this process
// (SIGINT, SIGTERM, with install_parent_signal_handlers()) kills the live server first;
// and the child asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/procfs.h"
#include "threads/blocking_socket.h"

namespace greenbench::echo {

class ServerChild {
 public:
  // Starts argv[0] with argv, on `cpus` (empty: this thread's CPUs), and waits up to
  // `start_timeout` for its `listening` line; throws std::runtime_error (with the tail of
  // its stderr) when it does not come, or when it cannot run on `cpus`.
  ServerChild(const std::vector<std::string>& argv, std::chrono::milliseconds start_timeout,
              const std::vector<int>& cpus = {});
  ServerChild(const ServerChild&) = delete;
  ServerChild& operator=(const ServerChild&) = delete;
  ~ServerChild();

  pid_t pid() const { return pid_; }
  const Address& address() const { return address_; }

  // Resident bytes: exact (smaps_rollup Rss, walks every mapping) and cheap
  // (status VmRSS, the kernel's per-process counters, for polling).
  std::int64_t rss_bytes() const;
  std::int64_t vm_rss_bytes() const;
  // Its kernel memory by the suite's one definition (procfs.h): page tables (VmPTE) and a
  // kernel stack per thread, from /proc/PID/status.
  KernelMemory kernel_memory() const;
  // User + system CPU time of all its threads (/proc/PID/stat), in seconds.
  double cpu_seconds() const;
  // Its open descriptors, and its soft RLIMIT_NOFILE (-1: unknown or unlimited).
  std::int64_t open_descriptors() const;
  std::int64_t nofile_limit() const;
  // The first `refused: <bound>` line it wrote, without the prefix; "" when none.
  std::string refusal() const;
  // "" while it runs; else how it ended ("exited with status 1", "killed by signal 9").
  std::string ended();
  // What it wrote to stderr (the last `lines` lines).
  std::string stderr_tail(int lines = 5) const;
  // Ends it now (SIGKILL) and reaps it.
  void kill_now();

 private:
  std::string stderr_text() const;
  // Kills it, closes what this holds of it and throws std::runtime_error(why + its stderr).
  [[noreturn]] void abandon(const std::string& why);

  pid_t pid_ = -1;
  int stdin_ = -1;   // write end of its stdin
  int stdout_ = -1;  // read end of its stdout
  int stderr_ = -1;  // the file its stderr goes to
  int status_ = 0;
  bool reaped_ = false;
  Address address_;
};

// SIGINT and SIGTERM kill the live ServerChild (if any) and end this process with status
// 128 + the signal's number.
void install_parent_signal_handlers();

// This program's own path (/proc/self/exe), to start it as a server.
std::string own_executable();

}  // namespace greenbench::echo
