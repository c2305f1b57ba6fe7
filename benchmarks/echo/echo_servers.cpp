// echo_servers.cpp: server names, their command lines, and serving (see echo_servers.h).
#include "echo/echo_servers.h"

#include <charconv>
#include <stdexcept>

#include "echo/epoll_echo_server.h"
#include "echo/server_child.h"
#include "echo/server_process.h"
#include "echo/task_per_connection_server.h"
#include "tasks/fiber_runtime.h"
#include "threads/std_thread_runtime.h"

namespace greenbench::echo {
namespace {

constexpr unsigned kMaxCount = 1024;

// The N of "<id>/<param>:N", or 0 when `text` is not that.
unsigned count_after(std::string_view text, std::string_view id_and_param) {
  if (text.substr(0, id_and_param.size()) != id_and_param) return 0;
  text.remove_prefix(id_and_param.size());
  unsigned n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc() || end != text.data() + text.size() || n > kMaxCount) return 0;
  return n;
}

}  // namespace

std::string ServerSpec::prefix() const {
  switch (kind) {
    case Kind::std_thread:
      return "std_thread";
    case Kind::fiber:
      return "fiber/workers:" + std::to_string(count);
    case Kind::epoll:
      return "epoll/loops:" + std::to_string(count);
    case Kind::go:
      return "go/procs:" + std::to_string(count);
  }
  return "";
}

std::optional<ServerSpec> parse_server(std::string_view text) {
  using Kind = ServerSpec::Kind;
  if (text == "std_thread") return ServerSpec{Kind::std_thread, 0};
  if (text == "epoll") return ServerSpec{Kind::epoll, 1};
  for (const auto& [kind, id_and_param] :
       {std::pair{Kind::fiber, "fiber/workers:"}, std::pair{Kind::epoll, "epoll/loops:"},
        std::pair{Kind::go, "go/procs:"}}) {
    if (const unsigned n = count_after(text, id_and_param); n > 0) return ServerSpec{kind, n};
  }
  return std::nullopt;
}

std::vector<std::string> server_command(const ServerSpec& spec, const Address& address,
                                        const std::string& go_peer) {
  if (spec.kind == ServerSpec::Kind::go) {
    return {go_peer, "echo-server", "-procs", std::to_string(spec.count), "-addr", address_text(address)};
  }
  return {own_executable(), "serve", "--server", spec.prefix(), "--addr", address_text(address)};
}

void serve(const ServerSpec& spec, const Address& address) {
  start_process_watch();
  switch (spec.kind) {
    case ServerSpec::Kind::std_thread:
      serve_task_per_connection(StdThreadRuntime{}, address, announce_listening);
      break;
    case ServerSpec::Kind::fiber:
      serve_task_per_connection(FiberRuntime{spec.count}, address, announce_listening);
      break;
    case ServerSpec::Kind::epoll:
      serve_epoll(address, spec.count, announce_listening);
      break;
    case ServerSpec::Kind::go:
      break;
  }
  throw std::logic_error(spec.prefix() + " is not served by this program");
}

}  // namespace greenbench::echo
