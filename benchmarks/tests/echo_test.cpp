// echo_test.cpp: the echo workload: the protocol session on fixed bytes (mode detection
// over split reads, echo, HTTP pipelining, Connection: close, the header cap); every C++
// server end to end on loopback, in both modes, started as the driver starts it
// (greenbench_echo serve, a child process), on the CPUs it is given; the load generator
// failing on a server that does not echo; the open loop's schedule, that it never sends
// ahead of it, and that a stalled server's latency counts from when each request was due;
// the client/server CPU split; greenbench_echo run (closed and open loop) and max_conns at
// tiny sizes, and their exit status on bad command lines; every server raising its
// descriptor limit as far as it may.
//
// Invariant: every server these tests start is a child under ServerChild, so it is ended
// and reaped when its test ends, passed or failed; runs are short (C = 8, 0.3 s windows).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "echo/cpu_split.h"
#include "echo/echo_client.h"
#include "echo/echo_servers.h"
#include "echo/echo_session.h"
#include "echo/load_generator.h"
#include "echo/send_schedule.h"
#include "echo/server_child.h"
#include "harness/cpu_affinity.h"
#include "harness/procfs.h"
#include "suite_programs.h"
#include "threads/blocking_socket.h"

namespace greenbench::echo {
namespace {

using greenbench::testing::ProgramResult;
using greenbench::testing::run_program;
using greenbench::testing::TempFile;
using namespace std::chrono_literals;

const std::string kEcho = GREENBENCH_ECHO;
const std::string kGoPeer = GREENBENCH_GO_PEER;
const std::vector<std::string> kCppServers = {"std_thread", "epoll", "fiber/workers:1", "fiber/workers:2"};
const std::string kGet = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kReply(EchoSession::kHttpReply);

std::string repeated(const std::string& text, int times) {
  std::string all;
  for (int i = 0; i < times; ++i) all += text;
  return all;
}

// ---- the protocol, without I/O -------------------------------------------------------

TEST(EchoSession, EchoesEveryByteAsItArrives) {
  EchoSession session;
  EXPECT_EQ(session.receive("hello"), "hello");
  EXPECT_EQ(session.mode(), EchoSession::Mode::echo);
  EXPECT_EQ(session.receive(std::string("\0GET \r\n\r\n", 9)), std::string("\0GET \r\n\r\n", 9));
  EXPECT_FALSE(session.done());
}

TEST(EchoSession, ModeBytesSplitOverReads) {
  EchoSession http;
  EXPECT_EQ(http.receive("G"), "");
  EXPECT_EQ(http.receive("E"), "");
  EXPECT_EQ(http.mode(), EchoSession::Mode::undecided);
  EXPECT_EQ(http.receive("T"), "");
  EXPECT_EQ(http.receive(" / HTTP/1.1\r\n\r"), "");
  EXPECT_EQ(http.mode(), EchoSession::Mode::http);
  EXPECT_EQ(http.receive("\n"), kReply);

  EchoSession echo;  // a prefix of "GET " that turns out not to be one is echoed whole
  EXPECT_EQ(echo.receive("GE"), "");
  EXPECT_EQ(echo.receive("Tx"), "GETx");
  EXPECT_EQ(echo.mode(), EchoSession::Mode::echo);
  EXPECT_EQ(echo.receive("GET "), "GET ");

  EchoSession lower;
  EXPECT_EQ(lower.receive("get / HTTP/1.1\r\n\r\n"), "get / HTTP/1.1\r\n\r\n");
}

TEST(EchoSession, PipelinedRequestsAreAnsweredInOrder) {
  EchoSession session;
  EXPECT_EQ(session.receive(kGet + kGet + kGet.substr(0, 10)), kReply + kReply);
  EXPECT_EQ(session.receive(kGet.substr(10) + kGet), kReply + kReply);
  // A block end split across reads at every position.
  for (std::size_t cut = 1; cut < kGet.size(); ++cut) {
    SCOPED_TRACE(cut);
    EXPECT_EQ(session.receive(kGet.substr(0, cut)), "");
    EXPECT_EQ(session.receive(kGet.substr(cut)), kReply);
  }
  EXPECT_FALSE(session.done());
}

TEST(EchoSession, ConnectionCloseEndsTheSessionAfterItsReply) {
  EchoSession session;
  const std::string close = "GET / HTTP/1.1\r\nHost: x\r\ncOnNeCtIoN:  Close\r\n\r\n";
  EXPECT_EQ(session.receive(kGet + close + kGet), kReply + kReply);
  EXPECT_TRUE(session.done());
  EXPECT_EQ(session.receive(kGet), "");

  EchoSession keep_alive;
  EXPECT_EQ(keep_alive.receive("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"), kReply);
  EXPECT_FALSE(keep_alive.done());
}

TEST(EchoSession, HeaderBlockOverTheCapClosesWithoutReply) {
  const std::string line = "X-Filler: " + std::string(100, 'f') + "\r\n";
  const std::string big_head = "GET / HTTP/1.1\r\n" + repeated(line, 90);  // ~10 KiB
  ASSERT_GT(big_head.size(), EchoSession::kMaxHeaderBytes);

  EchoSession unterminated;
  EXPECT_EQ(unterminated.receive(big_head), "");
  EXPECT_TRUE(unterminated.done());

  EchoSession complete;  // answers what came before it, not the oversize block
  EXPECT_EQ(complete.receive(kGet + big_head + "\r\n"), kReply);
  EXPECT_TRUE(complete.done());

  std::string at_cap = "GET / HTTP/1.1\r\nX: ";
  at_cap += std::string(EchoSession::kMaxHeaderBytes - at_cap.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(at_cap.size(), EchoSession::kMaxHeaderBytes);
  EchoSession exact;
  EXPECT_EQ(exact.receive(at_cap), kReply);
  EXPECT_FALSE(exact.done());
}

// ---- every C++ server, end to end ----------------------------------------------------

ServerChild start_server(const std::string& server) {
  return ServerChild({kEcho, "serve", "--server", server, "--addr", "127.0.0.1:0"},
                     std::chrono::milliseconds(10'000));
}

// Reads until `expected.size()` bytes or end of stream.
std::string read_exactly(BlockingConn& conn, std::size_t n) {
  std::string got;
  char buffer[4096];
  while (got.size() < n) {
    const auto r = conn.read_some(buffer, std::min(sizeof buffer, n - got.size()));
    if (!r || r.value == 0) break;
    got.append(buffer, r.value);
  }
  return got;
}

TEST(EchoServers, SpeakBothModes) {
  for (const std::string& name : kCppServers) {
    SCOPED_TRACE(name);
    ServerChild server = start_server(name);
    EXPECT_GT(server.nofile_limit(), 0);

    auto echo = blocking_connect(server.address(), std::chrono::milliseconds(5000));
    ASSERT_TRUE(echo) << echo.error.message();
    const std::string bytes = "echo " + std::string(10'000, 'z');
    ASSERT_TRUE(echo.value.write(bytes.data(), bytes.size()));
    EXPECT_EQ(read_exactly(echo.value, bytes.size()), bytes);

    auto http = blocking_connect(server.address(), std::chrono::milliseconds(5000));
    ASSERT_TRUE(http) << http.error.message();
    const std::string requests = kGet.substr(0, 2);
    ASSERT_TRUE(http.value.write(requests.data(), requests.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the mode bytes split
    const std::string rest = kGet.substr(2) + kGet + "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
    ASSERT_TRUE(http.value.write(rest.data(), rest.size()));
    EXPECT_EQ(read_exactly(http.value, 4 * kReply.size()), repeated(kReply, 3));  // then closed
    EXPECT_EQ(server.ended(), "");
  }
}

TEST(EchoServers, RunOnTheCpusTheyAreGiven) {
  const int cpu = allowed_cpus().back();
  ServerChild server({kEcho, "serve", "--server", "fiber/workers:2", "--addr", "127.0.0.1:0"}, 10'000ms,
                     {cpu});
  const std::string status = read_file("/proc/" + std::to_string(server.pid()) + "/status");
  const auto at = status.find("Cpus_allowed_list:");
  ASSERT_NE(at, std::string::npos);
  std::istringstream list(status.substr(at + 18));
  std::string allowed;
  list >> allowed;
  EXPECT_EQ(allowed, std::to_string(cpu));
}

// One `run` at C = 8 for 0.3 s: the entry of each repetition, checked. `more`: further
// arguments (--rate R makes it an open loop).
std::vector<nlohmann::json> short_run(const std::string& server, int reps, const std::string& go_peer = "",
                                      const std::vector<std::string>& more = {}) {
  const TempFile out;
  std::vector<std::string> args = {
      "run",    "--server",           server,  "--conns", "8", "--duration", "0.3", "--warmup", "0.1",
      "--reps", std::to_string(reps), "--out", out.path()};
  if (!go_peer.empty()) args.insert(args.end(), {"--go-peer", go_peer});
  args.insert(args.end(), more.begin(), more.end());
  const ProgramResult r = run_program(kEcho, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return {};
  const nlohmann::json doc = nlohmann::json::parse(out.text());
  EXPECT_EQ(doc.at("context").at("greenbench").at("program"), "greenbench_echo");
  EXPECT_TRUE(doc.at("context").at("greenbench").at("limits").is_object());
  std::vector<nlohmann::json> entries = doc.at("benchmarks");
  EXPECT_EQ(entries.size(), static_cast<std::size_t>(reps));
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const nlohmann::json& e = entries[k];
    EXPECT_EQ(e.at("run_type"), "iteration");
    EXPECT_EQ(e.at("repetition_index"), static_cast<int>(k));
    EXPECT_EQ(e.at("repetitions"), reps);
    EXPECT_GT(e.at("requests").get<double>(), 0);
    EXPECT_EQ(e.at("iterations"), e.at("requests"));
    EXPECT_GT(e.at("requests_per_second").get<double>(), 0);
    EXPECT_GT(e.at("ns_p50").get<double>(), 0);
    EXPECT_LE(e.at("ns_p50").get<double>(), e.at("ns_p99").get<double>());
    EXPECT_LE(e.at("ns_p99").get<double>(), e.at("ns_p999").get<double>());
    EXPECT_LE(e.at("ns_p999").get<double>(), e.at("ns_max").get<double>());
    // In 10 ms ticks, so a short run may not reach one (an epoll server on a fast
    // machine, an open loop's few hundred requests). A request costs the server a read
    // and a write, at least 1 us: from 20,000 requests on it has used two ticks or more.
    EXPECT_GE(e.at("server_cpu_ns_per_request").get<double>(), 0);
    if (e.at("requests").get<double>() >= 20'000) {
      EXPECT_GT(e.at("server_cpu_ns_per_request").get<double>(), 0);
    }
    EXPECT_GT(e.at("client_cpu_ns_per_request").get<double>(), 0);
    const double run_queue = e.at("client_run_queue_fraction").get<double>();  // NaN where unknown
    EXPECT_TRUE(std::isnan(run_queue) || (run_queue >= 0 && run_queue <= 1)) << run_queue;
    EXPECT_EQ(e.contains("server_rss_bytes_per_conn"), !e.contains("offered_per_second"));
    if (e.contains("server_rss_bytes_per_conn")) {
      EXPECT_DOUBLE_EQ(e.at("server_total_bytes_per_conn").get<double>(),
                       e.at("server_rss_bytes_per_conn").get<double>() +
                           e.at("server_kernel_bytes_per_conn").get<double>());
    }
    EXPECT_GE(e.at("server_cpus").get<double>(), 1);
    EXPECT_GE(e.at("client_cpus").get<double>(), 1);
    EXPECT_EQ(e.at("cpu_sets_disjoint").get<double>() == 1,
              e.at("server_cpus").get<double>() + e.at("client_cpus").get<double>() == allowed_cpus().size());
    EXPECT_EQ(e.at("conns"), 8);
    EXPECT_EQ(e.at("request_bytes"), 64);
    EXPECT_GT(e.at("nofile_limit").get<double>(), 8);
  }
  return entries;
}

TEST(EchoRun, EveryCppServerGivesAnEntryPerRepetition) {
  for (const std::string& server : kCppServers) {
    SCOPED_TRACE(server);
    const std::vector<nlohmann::json> entries = short_run(server, server == "epoll" ? 2 : 1);
    const std::string expected = server == "epoll" ? "epoll/loops:1" : server;
    for (const nlohmann::json& e : entries) EXPECT_EQ(e.at("name"), "echo/" + expected + "/conns:8");
  }
}

TEST(EchoRun, OpenLoopEntryAtItsOfferedRate) {
  // 400 requests/s over 8 connections: far below any server's capacity.
  for (const nlohmann::json& e : short_run("epoll", 1, "", {"--rate", "400"})) {
    EXPECT_EQ(e.at("name"), "echo_open_loop/epoll/loops:1/conns:8/rate:400");
    EXPECT_EQ(e.at("offered_per_second"), 400);
    // Never ahead of the schedule: the window's replies are at most those due in it (at
    // 400/s over the window as measured, however long a busy machine made it) and one in
    // flight per connection when it began.
    const double requests = e.at("requests").get<double>();
    const double window_seconds = e.at("real_time").get<double>() * requests * 1e-9;
    EXPECT_LE(requests, 400 * window_seconds + 8 + 1);
  }
}

TEST(EchoRun, DisjointCpuSetsWhereAsked) {
  if (allowed_cpus().size() < 2) GTEST_SKIP() << "one usable CPU: no two sets";
  for (const nlohmann::json& e : short_run("fiber/workers:1", 1, "", {"--client-cpus", "1"})) {
    EXPECT_EQ(e.at("cpu_sets_disjoint"), 1);
    EXPECT_EQ(e.at("client_cpus"), 1);
    EXPECT_EQ(e.at("server_cpus").get<double>(), allowed_cpus().size() - 1);
  }
}

TEST(EchoRun, GoServerWhereBuilt) {
  if (::access(kGoPeer.c_str(), X_OK) != 0) GTEST_SKIP() << "no Go peer at " << kGoPeer;
  for (const nlohmann::json& e : short_run("go/procs:1", 1, kGoPeer)) {
    EXPECT_EQ(e.at("name"), "echo/go/procs:1/conns:8");
  }
}

// ---- the descriptor limit -------------------------------------------------------------

// Whether this process has CAP_SYS_RESOURCE (bit 24 of CapEff), which lets it raise its
// hard RLIMIT_NOFILE; its children inherit it.
bool may_raise_hard_limits() {
  const std::string status = read_file("/proc/self/status");
  const auto at = status.find("CapEff:");
  if (at == std::string::npos) return false;
  return (std::stoull(status.substr(at + 7), nullptr, 16) >> 24) & 1;
}

TEST(EchoServers, RaiseTheDescriptorLimitAsFarAsAllowed) {
  rlimit own{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &own), 0);
  ASSERT_NE(own.rlim_max, RLIM_INFINITY);
  const std::int64_t nr_open = read_count_or_unknown("/proc/sys/fs/nr_open");
  std::int64_t expected = static_cast<std::int64_t>(own.rlim_max);
  if (may_raise_hard_limits() && nr_open > expected) expected = nr_open;
  std::vector<std::vector<std::string>> commands;
  for (const std::string server : {"std_thread", "fiber/workers:1"}) {
    commands.push_back({kEcho, "serve", "--server", server, "--addr", "127.0.0.1:0"});
  }
  if (::access(kGoPeer.c_str(), X_OK) == 0) {
    commands.push_back(server_command(*parse_server("go/procs:1"), {"127.0.0.1", 0}, kGoPeer));
  }
  for (const auto& command : commands) {
    ServerChild server(command, std::chrono::milliseconds(10'000));
    EXPECT_EQ(server.nofile_limit(), expected) << command[0] << " " << command.back();
  }
}

// ---- a server that does not echo -----------------------------------------------------

// Echoes every connection's bytes, but the `faulty_request`-th request (counting from 1)
// of each connection: without `stall`, one byte of its reply is flipped; with it, its
// reply is held back that long.
class FaultyEchoServer {
 public:
  explicit FaultyEchoServer(int faulty_request, std::chrono::milliseconds stall = 0ms)
      : faulty_request_(faulty_request), stall_(stall) {
    auto listening = BlockingListener::listen({"127.0.0.1", 0});
    EXPECT_TRUE(listening) << listening.error.message();
    listener_ = std::move(listening.value);
    address_ = listener_.local_address();
    acceptor_ = std::thread([this] {
      for (;;) {
        auto accepted = listener_.accept();
        if (!accepted || stop_) return;
        connections_.emplace_back([this, conn = std::move(accepted.value)]() mutable {
          char buffer[64];
          for (int request = 1;; ++request) {
            const std::string got = read_exactly(conn, sizeof buffer);
            if (got.size() < sizeof buffer) return;
            std::string reply = got;
            if (request == faulty_request_ && stall_ > 0ms) std::this_thread::sleep_for(stall_);
            if (request == faulty_request_ && stall_ == 0ms) reply[10] ^= 1;
            if (!conn.write(reply.data(), reply.size())) return;
          }
        });
      }
    });
  }
  ~FaultyEchoServer() {
    stop_ = true;
    auto wake = blocking_connect(address_);  // the acceptor sees stop_ and returns
    acceptor_.join();
    for (std::thread& t : connections_) t.join();
  }
  const Address& address() const { return address_; }

 private:
  const int faulty_request_;
  const std::chrono::milliseconds stall_;
  BlockingListener listener_;
  Address address_;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> connections_;
};

TEST(LoadGenerator, FailsWhenALaterReplyDiffers) {
  FaultyEchoServer server(5);
  LoadGenerator load({server.address(), 2, 64, 1});
  load.start();
  load.begin_window();
  // However slow the machine, the window lasts until the client has read a broken reply
  // (the fifth of a connection), or a generous deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!load.failed() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  load.end_window();
  try {
    load.finish();
    ADD_FAILURE() << "a reply that differs from its request went unnoticed";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("does not echo"), std::string::npos) << error.what();
  }
}

TEST(LoadGenerator, FailsWhenTheFirstReplyDiffers) {
  FaultyEchoServer server(1);
  try {
    LoadGenerator load({server.address(), 2, 64, 1});
    ADD_FAILURE() << "a first reply that differs went unnoticed";
  } catch (const ConnectFailure& error) {
    ADD_FAILURE() << "taken for a limit: " << error.what();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("does not echo"), std::string::npos) << error.what();
  }
}

// ---- the open loop --------------------------------------------------------------------

TEST(SendSchedule, ConnectionsTakeTurnsAtTheOfferedRate) {
  const SendSchedule::Clock::time_point start{std::chrono::seconds(1000)};
  const SendSchedule schedule(1000, 4, start);  // 1,000 requests/s over 4 connections
  EXPECT_EQ(schedule.interval(), 4ms);
  EXPECT_EQ(schedule.due(0, 0), start);
  EXPECT_EQ(schedule.due(1, 0), start + 1ms);
  EXPECT_EQ(schedule.due(3, 0), start + 3ms);
  EXPECT_EQ(schedule.due(0, 1), start + 4ms);
  EXPECT_EQ(schedule.due(2, 250), start + 1002ms);
  // Exact however far out: request 10^9 of all of them is due 10^6 s after start.
  EXPECT_EQ(schedule.due(0, 250'000'000), start + std::chrono::seconds(1'000'000));

  const SendSchedule uneven(3, 2, start);  // 3/s over 2: a third of a second apart
  EXPECT_EQ(uneven.due(1, 0) - uneven.due(0, 0), std::chrono::nanoseconds(333'333'333));
  for (std::int64_t k = 0; k < 100; ++k) {
    const auto step = uneven.due(0, k + 1) - uneven.due(0, k);
    EXPECT_LE(std::chrono::abs(step - uneven.interval()), 1ns) << k;
  }
}

TEST(LoadGenerator, OpenLoopCountsAStallFromWhenEachRequestWasDue) {
  // One connection at 200 requests/s (one due every 5 ms); the server holds its 10th
  // reply for 300 ms. Requests 11 onwards cannot leave until that reply is in, and each
  // is timed from when it was due: the ~30 due in the stall's first 150 ms have all waited
  // longer than 150 ms (a closed loop would count one slow request, the held one).
  constexpr auto kStall = 300ms;
  FaultyEchoServer server(10, kStall);
  LoadGenerator load({server.address(), 1, 64, 1, 200});
  load.start();
  load.begin_window();
  std::this_thread::sleep_for(2s);  // the stall and the catching up, however slow the machine
  load.end_window();
  const LoadFigures figures = load.finish();
  const auto waited_half_the_stall =
      std::count_if(figures.latency_ns.begin(), figures.latency_ns.end(),
                    [&](std::uint32_t ns) { return std::chrono::nanoseconds(ns) >= kStall / 2; });
  EXPECT_GE(waited_half_the_stall, 20) << figures.requests << " replies";
  EXPECT_GE(std::chrono::nanoseconds(figures.latency_ns.back()), kStall);
}

TEST(CpuSplit, DisjointFromFourCpusElseShared) {
  const CpuSplit two = split_cpus({0, 1}, kClientCpusAuto);
  EXPECT_FALSE(two.disjoint());
  EXPECT_EQ(two.server, (std::vector<int>{0, 1}));
  EXPECT_EQ(two.client, two.server);
  EXPECT_EQ(two.describe(), "client and server share CPUs 0-1");

  const CpuSplit five = split_cpus({0, 1, 2, 3, 6}, kClientCpusAuto);
  EXPECT_TRUE(five.disjoint());
  EXPECT_EQ(five.server, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(five.client, (std::vector<int>{3, 6}));
  EXPECT_EQ(five.describe(), "client on CPUs 3,6, server on CPUs 0-2");

  EXPECT_FALSE(split_cpus({0, 1, 2, 3}, kClientCpusShared).disjoint());
  const CpuSplit asked = split_cpus({0, 1}, 1);
  EXPECT_EQ(asked.server, std::vector<int>{0});
  EXPECT_EQ(asked.client, std::vector<int>{1});
  EXPECT_THROW(split_cpus({0, 1}, 2), std::invalid_argument);

  EXPECT_EQ(parse_client_cpus("auto"), kClientCpusAuto);
  EXPECT_EQ(parse_client_cpus("shared"), kClientCpusShared);
  EXPECT_EQ(parse_client_cpus("3"), 3);
  for (const std::string bad : {"0", "-1", "two", "2x", ""}) {
    EXPECT_THROW(parse_client_cpus(bad), std::invalid_argument) << bad;
  }
}

TEST(EchoClient, RequestsDifferByConnectionAndSequence) {
  std::string a(64, '\0'), b(64, '\0'), c(64, '\0');
  fill_request(a.data(), a.size(), 1, 7);
  fill_request(b.data(), b.size(), 2, 7);
  fill_request(c.data(), c.size(), 1, 8);
  EXPECT_EQ(a[0], 'e');
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
}

// ---- max_conns and the command line ---------------------------------------------------

TEST(EchoMaxConns, SmallCapBinds) {
  for (const std::string server : {"std_thread", "fiber/workers:1"}) {
    SCOPED_TRACE(server);
    const ProgramResult r = run_program(kEcho, {"max_conns", "--server", server, "--cap", "50"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json doc = nlohmann::json::parse(r.out);
    ASSERT_EQ(doc.at("benchmarks").size(), 1u);
    const nlohmann::json& e = doc.at("benchmarks").at(0);
    EXPECT_EQ(e.at("name"), "echo_max_conns/" + std::string(server));
    EXPECT_EQ(e.at("label"), "bound:cap");
    EXPECT_EQ(e.at("max_conns"), 50);
    EXPECT_GT(e.at("server_rss_bytes_per_conn").get<double>(), 0);
    EXPECT_DOUBLE_EQ(
        e.at("server_total_bytes_per_conn").get<double>(),
        e.at("server_rss_bytes_per_conn").get<double>() + e.at("server_kernel_bytes_per_conn").get<double>());
    // A thread per connection brings its kernel stack (16 KiB); a fiber brings none.
    if (server == "std_thread") {
      EXPECT_GE(e.at("server_kernel_bytes_per_conn").get<double>(), 16384);
    } else {
      EXPECT_LT(e.at("server_kernel_bytes_per_conn").get<double>(), 16384);
    }
    EXPECT_GE(e.at("seconds").get<double>(), 0);
  }
}

TEST(EchoExit, BadCommandLineExits2WithAMessage) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"fly"},
      {"run", "--server", "std_thread"},  // no --conns
      {"run", "--server", "no_such_server", "--conns", "1"},
      {"run", "--server", "boost_fiber/sched:round_robin/workers:1/alloc:default", "--conns", "1"},
      {"run", "--server", "fiber/workers:0", "--conns", "1"},
      {"run", "--server", "std_thread", "--conns", "0"},
      {"run", "--server", "std_thread", "--conns", "2", "--client-threads", "3"},
      {"run", "--server", "std_thread", "--conns", "2", "--request-bytes", "0"},
      {"run", "--server", "std_thread", "--conns", "2", "--no-such-flag"},
      {"run", "--server", "std_thread", "--conns", "2", "--addr", "192.0.2.1:0"},
      {"run", "--server", "std_thread", "--conns", "2", "--loops", "2"},
      {"run", "--server", "std_thread", "--conns", "2", "--rate", "0"},
      {"run", "--server", "std_thread", "--conns", "2", "--client-cpus", "some"},
      {"run", "--server", "std_thread", "--conns", "2", "--client-cpus", "100000"},
      {"run", "--server", "go/procs:1", "--conns", "2", "--go-peer", "/nonexistent/greenbench-go"},
      {"serve", "--server", "go/procs:1"},
      {"max_conns", "--server", "epoll", "--memory-budget", "999999999999999"},
  };
  for (const std::vector<std::string>& args : bad) {
    std::string command;
    for (const std::string& arg : args) command += arg + " ";
    SCOPED_TRACE(command);
    const ProgramResult r = run_program(kEcho, args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_FALSE(r.err.empty());
    EXPECT_EQ(r.out.find("\"benchmarks\""), std::string::npos);
  }
}

}  // namespace
}  // namespace greenbench::echo
