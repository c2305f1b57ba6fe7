// echo_client.cpp: requests, verified connections, source addresses, client-side bounds
// (see echo_client.h).
#include "echo/echo_client.h"

#include <poll.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace greenbench::echo {

void fill_request(char* out, std::size_t n, std::uint32_t conn, std::uint64_t seq) {
  if (n == 0) return;
  out[0] = 'e';
  char header[12];
  std::memcpy(header, &conn, sizeof conn);
  std::memcpy(header + sizeof conn, &seq, sizeof seq);
  const std::size_t copied = std::min(n - 1, sizeof header);
  std::memcpy(out + 1, header, copied);
  for (std::size_t i = 1 + copied; i < n; ++i) {
    out[i] = static_cast<char>('a' + (i + conn + seq) % 26);
  }
}

ConnectionOpener::ConnectionOpener(Address server, std::size_t request_bytes)
    : server_(std::move(server)),
      request_bytes_(request_bytes),
      spread_sources_(is_loopback(server_) && server_.host.find(':') == std::string::npos) {}

Opened ConnectionOpener::open(std::uint32_t conn, std::chrono::milliseconds timeout) {
  Opened opened;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const Address source{"127.0.0." + std::to_string(source_), 0};
    auto connected = blocking_connect(server_, timeout, spread_sources_ ? &source : nullptr);
    if (connected) {
      opened.conn = std::move(connected.value);
      break;
    }
    if (connected.error == std::errc::address_not_available && spread_sources_ && source_ < 254) {
      ++source_;
      continue;
    }
    opened.error = connected.error;
    return opened;
  }

  opened.stage = OpenStage::round_trip;
  std::vector<char> request(request_bytes_), reply(request_bytes_);
  fill_request(request.data(), request.size(), conn, 0);
  if (const auto sent = opened.conn.write(request.data(), request.size()); !sent) {
    opened.error = sent.error;
  }
  for (std::size_t got = 0; !opened.error && got < reply.size();) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd readable{opened.conn.fd(), POLLIN, 0};
    const int ready = left.count() > 0 ? ::poll(&readable, 1, static_cast<int>(left.count())) : 0;
    if (ready == 0) {
      opened.error = std::make_error_code(std::errc::timed_out);
    } else if (ready < 0) {
      continue;  // EINTR
    } else if (const auto read = opened.conn.read_some(reply.data() + got, reply.size() - got); !read) {
      opened.error = read.error;
    } else if (read.value == 0) {
      opened.error = std::make_error_code(std::errc::connection_reset);  // closed by the server
    } else {
      got += read.value;
    }
  }
  if (!opened.error && reply != request) opened.error = std::make_error_code(std::errc::bad_message);
  if (opened.error) opened.conn.close();
  return opened;
}

std::string client_side_bound(const std::error_code& error) {
  if (error == std::errc::too_many_files_open || error == std::errc::too_many_files_open_in_system)
    return "nofile";
  if (error == std::errc::address_not_available) return "ports";
  return "";
}

std::string errno_bound(int error) {
  const char* name = ::strerrorname_np(error);
  return "errno:" + (name ? std::string(name) : std::to_string(error));
}

}  // namespace greenbench::echo
