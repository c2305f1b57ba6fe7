// echo_workload.cpp: the echo and echo_max_conns measurements (see echo_workload.h).
#include "echo/echo_workload.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <thread>

#include "echo/echo_client.h"
#include "echo/load_generator.h"
#include "echo/server_child.h"
#include "harness/cpu_affinity.h"
#include "harness/entry_name.h"
#include "harness/procfs.h"
#include "harness/system_limits.h"

namespace greenbench::echo {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kServerStartTimeout{10'000};
// Descriptors a process holds besides its connections (stdio, pipes, epoll, listener).
constexpr std::int64_t kDescriptorSlack = 32;
// max_conns: how long one connection may take to echo its first request; the server's
// resident memory is read at most this many connections apart (and closer as the budget
// nears: a quarter of what the average cost says still fits), and the run stops once
// room for fewer than kStopWhenRoomFor connections is left.
constexpr std::chrono::milliseconds kMaxConnsOpenTimeout{2000};
constexpr std::int64_t kCheckEvery = 256;
constexpr double kStopWhenRoomFor = 16;
constexpr std::int64_t kMemAvailableFloorBytes = std::int64_t{512} << 20;

void sleep_seconds(double seconds) { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); }

double seconds_since(Clock::time_point began) {
  return std::chrono::duration<double>(Clock::now() - began).count();
}

std::int64_t own_nofile_limit() { return read_system_limits().rlimit_nofile; }

// The lower of two limits where -1 means unlimited.
std::int64_t lower_limit(std::int64_t a, std::int64_t b) {
  if (a < 0) return b;
  if (b < 0) return a;
  return std::min(a, b);
}

[[noreturn]] void server_died(ServerChild& server, const std::string& how) {
  throw std::runtime_error("the server " + how + "; its stderr:\n" + server.stderr_tail());
}

void check_alive(ServerChild& server) {
  if (const std::string how = server.ended(); !how.empty()) server_died(server, how);
}

// The limit that kept the server from taking a connection that failed with `error` on
// the client's side: what it said (`refused: <bound>`), its descriptors at its limit
// (the Go peer says nothing), else the error itself.
std::string server_side_bound(ServerChild& server, const std::error_code& error) {
  check_alive(server);
  if (const std::string refusal = server.refusal(); !refusal.empty()) return refusal;
  const std::int64_t limit = server.nofile_limit();
  if (limit > 0 && server.open_descriptors() + kDescriptorSlack >= limit) return "nofile";
  return errno_bound(error.value());
}

bool is_limit(const std::string& bound) { return bound.rfind("errno:", 0) != 0; }

// Refuses `conns` connections that this machine's limits rule out before starting.
void check_size_possible(const ServerSpec& spec, std::int64_t conns, const std::string& name) {
  const std::int64_t nofile = own_nofile_limit();
  if (nofile > 0 && conns + kDescriptorSlack > nofile) {
    throw ImpossibleSize(name + ": bound:nofile: " + std::to_string(conns) +
                         " connections need as many descriptors in each process; RLIMIT_NOFILE is " +
                         std::to_string(nofile) + " (raised as far as this process may)");
  }
  if (spec.kind == ServerSpec::Kind::std_thread) {
    const Headroom headroom = thread_headroom();
    if (headroom.tasks && conns > *headroom.tasks) {
      throw ImpossibleSize(name + ": bound:" + headroom.bound + ": " + std::to_string(conns) +
                           " threads cannot be alive at once here; " + headroom.bound +
                           " leaves room for about " + std::to_string(*headroom.tasks));
    }
  }
}

// A server's memory per connection: the growth of its resident memory (user space) and of
// its kernel memory (page tables, a kernel stack per thread) over `conns`; NaN without any.
struct MemoryPerConn {
  double rss = NAN;
  double kernel = NAN;
};

MemoryPerConn memory_per_conn(std::int64_t rss_growth, std::int64_t kernel_growth, std::int64_t conns) {
  if (conns <= 0) return {};
  return {static_cast<double>(rss_growth) / static_cast<double>(conns),
          static_cast<double>(kernel_growth) / static_cast<double>(conns)};
}

}  // namespace

IterationEntry measure_echo(const ServerOptions& server_options, const LoadOptions& load_options,
                            Repetition rep, std::vector<std::string>& warnings) {
  const bool open_loop = load_options.rate > 0;
  std::vector<std::string> params = {"conns:" + std::to_string(load_options.conns)};
  if (open_loop) params.push_back("rate:" + std::to_string(load_options.rate));
  const std::string name =
      entry_name(open_loop ? "echo_open_loop" : "echo", server_options.spec.prefix(), params);
  check_size_possible(server_options.spec, load_options.conns, name);
  const CpuSplit& cpus = load_options.cpus;
  ServerChild server(server_command(server_options.spec, server_options.listen, server_options.go_peer),
                     kServerStartTimeout, cpus.disjoint() ? cpus.server : std::vector<int>{});
  const std::int64_t rss_before = server.rss_bytes();
  const KernelMemory kernel_before = server.kernel_memory();

  std::optional<ScopedPin> client_cpus;  // this thread, and so the client threads it starts
  if (cpus.disjoint()) client_cpus.emplace(cpus.client);
  std::optional<LoadGenerator> load;
  try {
    load.emplace(LoadSpec{server.address(), load_options.conns, load_options.request_bytes,
                          load_options.client_threads, load_options.rate});
  } catch (const ConnectFailure& failure) {
    const std::string bound =
        failure.bound.empty() ? server_side_bound(server, failure.error) : failure.bound;
    const std::string reason = name + ": bound:" + bound + ": " + failure.what();
    if (is_limit(bound)) throw ImpossibleSize(reason);
    throw std::runtime_error(reason);
  }
  load->start();
  sleep_seconds(load_options.warmup_seconds);
  const double server_cpu_before = server.cpu_seconds();
  load->begin_window();
  sleep_seconds(load_options.duration_seconds);
  load->end_window();
  const double server_cpu = server.cpu_seconds() - server_cpu_before;
  const LoadFigures figures = load->finish();
  check_alive(server);
  const std::int64_t rss_with_conns = server.rss_bytes();
  const KernelMemory kernel_with_conns = server.kernel_memory();
  const std::int64_t nofile = lower_limit(own_nofile_limit(), server.nofile_limit());
  load.reset();

  const auto requests = static_cast<double>(figures.requests);
  const double thread_seconds = figures.seconds * load_options.client_threads;
  const double client_busy = figures.client_cpu_seconds / thread_seconds;
  const double client_run_queue = figures.client_run_queue_seconds / thread_seconds;  // NaN: unknown
  const double client_wanted = client_busy + (std::isnan(client_run_queue) ? 0 : client_run_queue);
  const double achieved = requests / figures.seconds;
  const std::string repetition = name + " repetition " + std::to_string(rep.index);
  IterationEntry entry;
  entry.name = name;
  entry.repetitions = rep.count;
  entry.repetition_index = rep.index;
  entry.iterations = figures.requests;
  entry.real_time = figures.seconds * 1e9 / requests;
  entry.cpu_time = (server_cpu + figures.client_cpu_seconds) * 1e9 / requests;  // both processes
  entry.time_unit = "ns";
  if (client_wanted >= kClientSaturated) {
    entry.label = "client_saturated";
    warnings.push_back(repetition + ": the load generator's " + std::to_string(load_options.client_threads) +
                       " thread(s) were busy " + std::to_string(std::lround(client_busy * 100)) +
                       "% and waiting for a CPU " +
                       (std::isnan(client_run_queue)
                            ? std::string("(unknown)")
                            : std::to_string(std::lround(client_run_queue * 100)) + "%") +
                       " of the window: the figure may be the client's limit, not the server's");
  } else if (open_loop && achieved < kShortOfOfferedRate * static_cast<double>(load_options.rate)) {
    entry.label = "short_of_offered_rate";
    warnings.push_back(
        repetition + ": " + std::to_string(std::lround(achieved)) + " requests/s of the " +
        std::to_string(load_options.rate) +
        " offered: the server (or the machine under it) could not keep up, and its latency grew "
        "through the window");
  }
  entry.counters = {
      {"requests_per_second", achieved},
      {"ns_p50", figures.latency_percentile_ns(0.50)},
      {"ns_p99", figures.latency_percentile_ns(0.99)},
      {"ns_p999", figures.latency_percentile_ns(0.999)},
      {"ns_max", figures.latency_percentile_ns(1.0)},
      {"server_cpu_ns_per_request", server_cpu * 1e9 / requests},
      {"client_cpu_ns_per_request", figures.client_cpu_seconds * 1e9 / requests},
      {"client_run_queue_fraction", client_run_queue},
      {"requests", requests},
      {"conns", static_cast<double>(load_options.conns)},
      {"nofile_limit", static_cast<double>(nofile)},
      {"request_bytes", static_cast<double>(load_options.request_bytes)},
      {"client_threads", static_cast<double>(load_options.client_threads)},
      {"server_cpus", static_cast<double>(cpus.server.size())},
      {"client_cpus", static_cast<double>(cpus.client.size())},
      {"cpu_sets_disjoint", cpus.disjoint() ? 1.0 : 0.0},
  };
  if (open_loop) {
    entry.counters.insert(entry.counters.begin(),
                          {"offered_per_second", static_cast<double>(load_options.rate)});
  } else {
    const MemoryPerConn memory = memory_per_conn(rss_with_conns - rss_before,
                                                 kernel_with_conns.bytes() - kernel_before.bytes(),
                                                 load_options.conns);
    entry.counters.insert(entry.counters.begin() + 5,
                          {{"server_rss_bytes_per_conn", memory.rss},
                           {"server_kernel_bytes_per_conn", memory.kernel},
                           {"server_total_bytes_per_conn", memory.rss + memory.kernel}});
  }
  return entry;
}

IterationEntry measure_max_conns(const ServerOptions& server_options, const MaxConnsLimits& limits,
                                 std::vector<std::string>& warnings) {
  const std::string name = entry_name("echo_max_conns", server_options.spec.prefix());
  ServerChild server(server_command(server_options.spec, server_options.listen, server_options.go_peer),
                     kServerStartTimeout);
  const std::int64_t rss_before = server.rss_bytes();
  const std::int64_t vm_rss_before = server.vm_rss_bytes();
  const KernelMemory kernel_before = server.kernel_memory();
  const std::int64_t own_nofile = own_nofile_limit();
  const std::int64_t mem_available_floor = std::max(kMemAvailableFloorBytes, meminfo_bytes("MemTotal") / 20);
  ConnectionOpener opener(server.address(), 64);
  std::vector<BlockingConn> conns;
  conns.reserve(static_cast<std::size_t>(std::min<std::int64_t>(limits.cap, 1 << 16)));

  struct Reading {
    std::int64_t conns = 0;
    std::int64_t rss = 0;
    std::int64_t kernel = 0;
  } under_budget;  // the last reading within the budget
  std::string bound;
  bool killed_over_budget = false;
  const Clock::time_point began = Clock::now();
  const double server_cpu_before = server.cpu_seconds();
  double server_cpu = NAN;  // over the run; unknown where the server was killed
  for (std::int64_t next_check = 0;;) {
    const auto n = static_cast<std::int64_t>(conns.size());
    if (n >= limits.cap) {
      bound = "cap";
      break;
    }
    if (own_nofile > 0 && n + kDescriptorSlack >= own_nofile) {
      bound = "nofile";  // kept short of EMFILE: the final readings need descriptors too
      break;
    }
    const double left = limits.timeout_seconds - seconds_since(began);
    if (n >= next_check) {
      if (left <= 0) {
        bound = "time";
        break;
      }
      check_alive(server);
      const std::int64_t rss = server.vm_rss_bytes();
      if (rss > limits.memory_budget_bytes) {
        server.kill_now();
        killed_over_budget = true;
        bound = "memory_budget";
        break;
      }
      under_budget = {n, rss, server.kernel_memory().bytes()};
      const std::int64_t available = meminfo_bytes("MemAvailable");
      if (available >= 0 && available < mem_available_floor) {
        bound = "mem_available";
        break;
      }
      const double per_conn = n > 0 ? static_cast<double>(rss - vm_rss_before) / static_cast<double>(n) : 0;
      const double room = per_conn > 0 ? static_cast<double>(limits.memory_budget_bytes - rss) / per_conn
                                       : static_cast<double>(kCheckEvery) * 4;
      if (room < kStopWhenRoomFor) {
        bound = "memory_budget";
        break;
      }
      next_check = n + std::clamp<std::int64_t>(static_cast<std::int64_t>(room / 4), 1, kCheckEvery);
    }
    const auto timeout = std::min(
        kMaxConnsOpenTimeout,
        std::chrono::ceil<std::chrono::milliseconds>(std::chrono::duration<double>(std::max(left, 0.001))));
    Opened opened = opener.open(static_cast<std::uint32_t>(n), timeout);
    if (opened.error == std::errc::bad_message) {
      throw std::runtime_error(name + ": connection " + std::to_string(n) +
                               ": the reply differs from its request: the server does not echo");
    }
    if (!opened) {
      bound = client_side_bound(opened.error);
      if (bound.empty()) bound = server_side_bound(server, opened.error);
      if (bound.rfind("errno:ETIMEDOUT", 0) == 0 && seconds_since(began) >= limits.timeout_seconds)
        bound = "time";
      break;
    }
    conns.push_back(std::move(opened.conn));
  }
  const double seconds = seconds_since(began);

  std::int64_t max_conns = static_cast<std::int64_t>(conns.size());
  MemoryPerConn memory;
  if (killed_over_budget) {
    max_conns = under_budget.conns;  // what the server held within its budget, last seen
    memory = memory_per_conn(under_budget.rss - vm_rss_before, under_budget.kernel - kernel_before.bytes(),
                             max_conns);
    warnings.push_back(name +
                       ": the server passed its memory budget between two readings and was "
                       "killed; max_conns is the count at the last reading within it");
  } else {
    check_alive(server);
    server_cpu = server.cpu_seconds() - server_cpu_before;
    memory = memory_per_conn(server.rss_bytes() - rss_before, server.kernel_memory().bytes() - kernel_before.bytes(),
                             max_conns);
  }
  const std::int64_t nofile = lower_limit(own_nofile_limit(), server.nofile_limit());
  conns.clear();

  IterationEntry entry;
  entry.name = name;
  entry.real_time = seconds * 1e3;
  entry.cpu_time = server_cpu * 1e3;
  entry.time_unit = "ms";
  entry.label = "bound:" + bound;
  entry.counters = {
      {"max_conns", static_cast<double>(max_conns)},
      {"server_rss_bytes_per_conn", memory.rss},
      {"server_kernel_bytes_per_conn", memory.kernel},
      {"server_total_bytes_per_conn", memory.rss + memory.kernel},
      {"nofile_limit", static_cast<double>(nofile)},
      {"seconds", seconds},
  };
  return entry;
}

}  // namespace greenbench::echo
