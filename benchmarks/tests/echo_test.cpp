// echo_test.cpp: the echo workload: the protocol session on fixed bytes (mode detection
// over split reads, echo, HTTP pipelining, Connection: close, the header cap); every C++
// server end to end on loopback, in both modes, started as the driver starts it
// (greenbench_echo serve, a child process); the load generator failing on a server that
// does not echo; greenbench_echo run and max_conns at tiny sizes, and their exit status
// on bad command lines; every server raising its descriptor limit as far as it may.
//
// Invariant: every server these tests start is a child under ServerChild, so it is ended
// and reaped when its test ends, passed or failed; runs are short (C = 8, 0.3 s windows).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "threads/blocking_socket.h"
#include "echo/echo_client.h"
#include "echo/echo_servers.h"
#include "echo/echo_session.h"
#include "echo/load_generator.h"
#include "harness/procfs.h"
#include "echo/server_child.h"
#include "suite_programs.h"

namespace greenbench::echo {
namespace {

using greenbench::testing::ProgramResult;
using greenbench::testing::run_program;
using greenbench::testing::TempFile;

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

// One `run` at C = 8 for 0.3 s: the entry of each repetition, checked.
std::vector<nlohmann::json> short_run(const std::string& server, int reps, const std::string& go_peer = "") {
  const TempFile out;
  std::vector<std::string> args = {
      "run",    "--server",           server,  "--conns", "8", "--duration", "0.3", "--warmup", "0.1",
      "--reps", std::to_string(reps), "--out", out.path()};
  if (!go_peer.empty()) args.insert(args.end(), {"--go-peer", go_peer});
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
    EXPECT_GT(e.at("server_cpu_ns_per_request").get<double>(), 0);
    EXPECT_GT(e.at("client_cpu_ns_per_request").get<double>(), 0);
    EXPECT_TRUE(e.at("server_rss_bytes_per_conn").is_number());
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

// Echoes every connection's bytes, but flips one byte of the `broken_request`-th request
// (counting from 1) of each connection.
class BrokenEchoServer {
 public:
  explicit BrokenEchoServer(int broken_request) : broken_request_(broken_request) {
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
            if (request == broken_request_) reply[10] ^= 1;
            if (!conn.write(reply.data(), reply.size())) return;
          }
        });
      }
    });
  }
  ~BrokenEchoServer() {
    stop_ = true;
    auto wake = blocking_connect(address_);  // the acceptor sees stop_ and returns
    acceptor_.join();
    for (std::thread& t : connections_) t.join();
  }
  const Address& address() const { return address_; }

 private:
  const int broken_request_;
  BlockingListener listener_;
  Address address_;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> connections_;
};

TEST(LoadGenerator, FailsWhenALaterReplyDiffers) {
  BrokenEchoServer server(5);
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
  BrokenEchoServer server(1);
  try {
    LoadGenerator load({server.address(), 2, 64, 1});
    ADD_FAILURE() << "a first reply that differs went unnoticed";
  } catch (const ConnectFailure& error) {
    ADD_FAILURE() << "taken for a limit: " << error.what();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("does not echo"), std::string::npos) << error.what();
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
