// echo_workload.h: the echo workload's two measurements, each against a fresh server child
// (server_child.h) and with the load generator in this process, as results entries
// (docs/results-format.md):
//
// echo/<server>/conns:C, one repetition of the closed loop (load_generator.h): C
//   connections, each verified by one round trip (setup, not measured), a warm-up, then
//   the measured window. Counters:
//   requests_per_second   replies in the window / its length
//   ns_p50, ns_p99, ns_p999, ns_max  latency of one request, send to the last byte of
//                         the reply
//   server_rss_bytes_per_conn  (server Rss with C connections open, after the window
//                         - its Rss once listening, before the first connection) / C
//   server_kernel_bytes_per_conn  the same of the server's kernel memory (procfs.h: page
//                         tables, 16 KiB of kernel stack per thread), read beside each Rss
//   server_total_bytes_per_conn   the two summed: all-in, as the memory probe counts
//   server_cpu_ns_per_request  server user+system CPU over the window / requests
//   client_cpu_ns_per_request  this process's CPU over the window / requests
//   client_run_queue_fraction  the client threads' run-queue wait (runnable, not
//                         running) over the window / (window x client threads)
//   requests, conns, nofile_limit (the lower of the two processes' RLIMIT_NOFILE),
//   request_bytes, client_threads, server_cpus, client_cpus, cpu_sets_disjoint (1 when
//   the two ran on disjoint CPU sets, cpu_split.h; 0 shared)
//   label `client_saturated` when the load generator's threads were busy or waiting for
//   a CPU at least kClientSaturated of the window (a warning in the context says so too).
// echo_open_loop/<server>/conns:C/rate:R, the same at an offered rate of R requests per
//   second (load_generator.h's open loop, wrk2's method): latency counted from when each
//   request was due; counters as above, less the server_*_bytes_per_conn (the closed
//   loop's figures), plus offered_per_second (R); label `client_saturated` as above, else
//   `short_of_offered_rate` when requests_per_second fell below kShortOfOfferedRate x R
//   (the server, or the machine under it, could not keep up; a warning says so too).
// echo_max_conns/<server>: connections opened one after another, each counted once it
//   has echoed one request, until something stops it: `cap`, `memory_budget` (the
//   server's resident memory would pass the budget; a server found over it is killed),
//   `mem_available` (the machine's MemAvailable fell below kMemAvailableFloor: kernel
//   socket memory, which no process's RSS shows, grows with every connection), `nofile`
//   (EMFILE or ENFILE on either side), `ports` (EADDRNOTAVAIL on every source address
//   127.0.0.1-254), a thread limit the server names (`pid_max`, `threads_max`, ...),
//   `time`, or `errno:<NAME>`. Counters: max_conns, server_rss_bytes_per_conn,
//   server_kernel_bytes_per_conn, server_total_bytes_per_conn (over max_conns; where the
//   server was killed, from the last reading within the budget, its Rss VmRSS), nofile_limit,
//   seconds; label `bound:<limit>`.
//
// Invariant: a figure comes only from a run whose every reply matched its request and
// whose server was alive at the end; a size this machine's limits rule out raises
// ImpossibleSize (the program's exit status 3: a skip, not a failure).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "echo/cpu_split.h"
#include "echo/echo_servers.h"
#include "harness/program_exit.h"
#include "harness/results_document.h"
#include "threads/blocking_socket.h"

namespace greenbench::echo {

inline constexpr double kClientSaturated = 0.9;
inline constexpr double kShortOfOfferedRate = 0.95;

struct ServerOptions {
  ServerSpec spec;
  Address listen{"127.0.0.1", 0};
  std::string go_peer;  // greenbench-go, for go/procs:P
};

struct LoadOptions {
  std::int64_t conns = 100;
  double warmup_seconds = 1;
  double duration_seconds = 2;
  std::size_t request_bytes = 64;
  unsigned client_threads = 1;
  std::int64_t rate = 0;  // open loop's offered requests per second; 0: closed loop
  CpuSplit cpus;          // where the server and the client run
};

struct Repetition {
  int index = 0;
  int count = 1;
};

IterationEntry measure_echo(const ServerOptions& server, const LoadOptions& load, Repetition rep,
                            std::vector<std::string>& warnings);

struct MaxConnsLimits {
  std::int64_t cap = 1'000'000;
  std::int64_t memory_budget_bytes = std::int64_t{1} << 30;
  double timeout_seconds = 60;
};

IterationEntry measure_max_conns(const ServerOptions& server, const MaxConnsLimits& limits,
                                 std::vector<std::string>& warnings);

}  // namespace greenbench::echo
