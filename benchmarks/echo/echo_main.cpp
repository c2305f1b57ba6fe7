// echo_main.cpp: greenbench_echo, the echo workload's program: a server under the process
// contract (docs/echo-protocol.md), and the two measurements that start one as a child
// and drive it from this process (echo_workload.h), written as one results document
// (docs/results-format.md, the same format as greenbench_probe's).
//
//   greenbench_echo serve     --server S [--addr HOST:PORT] [--loops L]
//   greenbench_echo run       --server S --conns C [--rate R] [--duration S] [--warmup S]
//                             [--request-bytes B] [--reps R] [--client-threads T]
//                             [--client-cpus auto|shared|N]
//                             [--out FILE] [--go-peer PATH] [--addr HOST:0] [--loops L]
//   greenbench_echo max_conns --server S [--cap N] [--memory-budget BYTES] [--timeout S]
//                             [--out FILE] [--go-peer PATH] [--addr HOST:0] [--loops L]
// S is the runtime part of an entry name: std_thread, fiber/workers:W, epoll (or
// epoll/loops:L), go/procs:P (run and max_conns only: it starts greenbench-go).
// `run` starts a fresh server for each of its R repetitions and writes R iteration
// entries; the driver adds the aggregates. Without --rate the load is a closed loop
// (echo/...), with it an open loop at R requests per second offered (echo_open_loop/...).
// --client-cpus: the client's share of the usable CPUs (cpu_split.h). Without --out the
// document goes to stdout.
//
// Exit status: 0 done; 1 the measurement failed (a reply that is not an echo, a server
// that died or stalled), nothing written; 2 a bad command line, with a message; 3 the size
// cannot exist here (C connections beyond RLIMIT_NOFILE, or a limit the server hit while
// connecting: the line on stderr names it), for the driver to record as a skip.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "echo/cpu_split.h"
#include "echo/echo_servers.h"
#include "echo/echo_workload.h"
#include "echo/server_child.h"
#include "echo/server_process.h"
#include "harness/cpu_affinity.h"
#include "harness/procfs.h"
#include "harness/program_exit.h"
#include "harness/results_document.h"
#include "threads/blocking_socket.h"

namespace greenbench::echo {
namespace {

constexpr std::size_t kMaxRequestBytes = 16 * 1024;  // one send, one socket buffer
constexpr unsigned kMaxClientThreads = 64;

ServerSpec server_or_usage_error(const std::string& text, unsigned loops) {
  std::optional<ServerSpec> spec = parse_server(text);
  if (!spec) {
    throw UsageError("unknown server '" + text +
                     "'; the echo servers are std_thread, fiber/workers:W, epoll, epoll/loops:L, "
                     "go/procs:P (Boost.Fiber has no netpoller, so no echo server)");
  }
  if (loops > 0) {
    if (spec->kind != ServerSpec::Kind::epoll) throw UsageError("--loops goes with --server epoll only");
    spec->count = loops;
  }
  return *spec;
}

Address address_or_usage_error(const std::string& text) {
  const std::optional<Address> address = parse_address(text);
  if (!address) throw UsageError("--addr '" + text + "' is not a numeric HOST:PORT");
  if (!is_loopback(*address)) throw UsageError("--addr '" + text + "' is not a loopback address");
  return *address;
}

void write_document(const std::string& document, const std::string& out) {
  if (out.empty() || out == "-") {
    std::cout << document;
    return;
  }
  std::ofstream file(out);
  file << document;
  if (!file.flush()) throw std::runtime_error("cannot write " + out);
}

int echo_main(int argc, char** argv) {
  CLI::App app{
      "greenbench_echo: echo servers (thread, fiber, goroutine per connection, an "
      "epoll loop) and their load generator, as a results document"};
  app.require_subcommand(1);

  std::string server_text, address_text_value = "127.0.0.1:0", go_peer = GREENBENCH_GO_PEER, out;
  unsigned loops = 0;
  const auto add_server = [&](CLI::App* sub) {
    sub->add_option("--server", server_text,
                    "std_thread, fiber/workers:W, epoll, epoll/loops:L or go/procs:P")
        ->required();
    sub->add_option("--addr", address_text_value, "loopback HOST:PORT to listen on (default 127.0.0.1:0)");
    sub->add_option("--loops", loops, "event loop threads of the epoll server (default 1)")
        ->check(CLI::Range(1u, 1024u));
  };
  const auto add_output = [&](CLI::App* sub) {
    sub->add_option("--out", out, "results file (default: stdout)");
    sub->add_option("--go-peer", go_peer, "greenbench-go, for go/procs:P (default: the build's)");
  };

  CLI::App* serve_command = app.add_subcommand("serve", "run one server under the process contract");
  add_server(serve_command);

  LoadOptions load;
  int reps = 1;
  std::string client_cpus_text = "auto";
  CLI::App* run_command =
      app.add_subcommand("run", "requests/s, latency, memory and CPU per request at C connections");
  add_server(run_command);
  add_output(run_command);
  run_command->add_option("--conns", load.conns, "concurrent connections")
      ->required()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{10'000'000}));
  run_command
      ->add_option("--rate", load.rate,
                   "open loop: requests per second offered over all connections, latency from when each was "
                   "due (default: closed loop)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}));
  run_command->add_option(
      "--client-cpus", client_cpus_text,
      "the client's CPUs: auto (half, where there are 4 or more; else shared), shared, or "
      "N (the last N usable CPUs; the server gets the rest)");
  run_command->add_option("--duration", load.duration_seconds, "measured window, seconds (default 2)")
      ->check(CLI::PositiveNumber);
  run_command->add_option("--warmup", load.warmup_seconds, "warm-up before it, seconds (default 1)")
      ->check(CLI::NonNegativeNumber);
  run_command->add_option("--request-bytes", load.request_bytes, "bytes per request (default 64)")
      ->check(CLI::Range(std::size_t{1}, kMaxRequestBytes));
  run_command->add_option("--reps", reps, "repetitions, each with a fresh server (default 1)")
      ->check(CLI::Range(1, 1000));
  run_command->add_option("--client-threads", load.client_threads, "load generator threads (default 1)")
      ->check(CLI::Range(1u, kMaxClientThreads));

  MaxConnsLimits limits;
  CLI::App* max_conns_command = app.add_subcommand(
      "max_conns", "connections one after another until a cap, budget, time or system limit");
  add_server(max_conns_command);
  add_output(max_conns_command);
  max_conns_command->add_option("--cap", limits.cap, "stop at this many connections (default 1,000,000)")
      ->check(CLI::Range(std::int64_t{1}, std::numeric_limits<std::int64_t>::max()));
  max_conns_command
      ->add_option("--memory-budget", limits.memory_budget_bytes,
                   "stop before the server's resident bytes exceed this (default 1 GiB)")
      ->check(CLI::Range(std::int64_t{1}, std::numeric_limits<std::int64_t>::max()));
  max_conns_command
      ->add_option("--timeout", limits.timeout_seconds, "stop after this many seconds (default 60)")
      ->check(CLI::PositiveNumber);

  return run_program("greenbench_echo", app, argc, argv, [&] {
    ServerOptions server{server_or_usage_error(server_text, loops),
                         address_or_usage_error(address_text_value), go_peer};
    if (serve_command->parsed()) {
      if (server.spec.kind == ServerSpec::Kind::go)
        throw UsageError("go/procs:P is served by greenbench-go echo-server, not by this program");
      serve(server.spec, server.listen);
    }
    if (server.spec.kind == ServerSpec::Kind::go && ::access(go_peer.c_str(), X_OK) != 0)
      throw UsageError("the Go peer is not at " + go_peer + " (build it, or name it with --go-peer)");
    if (run_command->parsed() && load.client_threads > load.conns)
      throw UsageError("--client-threads cannot exceed --conns");
    try {
      load.cpus = split_cpus(allowed_cpus(), parse_client_cpus(client_cpus_text));
    } catch (const std::invalid_argument& error) {
      throw UsageError(std::string("--client-cpus: ") + error.what());
    }
    if (max_conns_command->parsed()) {
      const std::int64_t available = meminfo_bytes("MemAvailable");
      if (available > 0 && limits.memory_budget_bytes > available) {
        throw UsageError("--memory-budget " + std::to_string(limits.memory_budget_bytes) +
                         " exceeds MemAvailable (" + std::to_string(available) +
                         " bytes): the OOM killer, not the budget, would stop the run");
      }
    }

    raise_nofile_limit();
    install_parent_signal_handlers();
    const std::string where =
        run_command->parsed()
            ? load.cpus.describe() + (load.cpus.disjoint()
                                          ? ""
                                          : " (disjoint sets need " + std::to_string(kDisjointFromCpus) +
                                                " usable CPUs or more)")
            : "client and server share its CPUs";
    std::vector<std::string> warnings = {
        "echo: the load generator runs on this machine; " + where +
        "; server_rss_bytes_per_conn is the server's user-space resident memory only, "
        "server_kernel_bytes_per_conn its page tables and kernel stacks (16 KiB a thread), "
        "server_total_bytes_per_conn both; kernel socket buffers are in none of them"};
    std::vector<IterationEntry> entries;
    if (run_command->parsed()) {
      for (int k = 0; k < reps; ++k) entries.push_back(measure_echo(server, load, {k, reps}, warnings));
    } else {
      entries.push_back(measure_max_conns(server, limits, warnings));
    }
    nlohmann::ordered_json context = results_context(argv[0], warnings);
    context["greenbench"]["program"] = "greenbench_echo";
    write_document(results_document(context, entries), out);
    return 0;
  });
}

}  // namespace
}  // namespace greenbench::echo

int main(int argc, char** argv) { return greenbench::echo::echo_main(argc, argv); }
