// blocking_socket.cpp: blocking TCP sockets and numeric addresses (see blocking_socket.h).
#include "threads/blocking_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace greenbench {
namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

using green::net::to_sockaddr;

void set_no_delay(int fd) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

}  // namespace

std::optional<Address> parse_address(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  const auto [end, error] = std::from_chars(first, last, port);
  if (error != std::errc() || end != last || first == last || port > 65535) return std::nullopt;
  Address address{host, static_cast<std::uint16_t>(port)};
  sockaddr_storage storage;
  socklen_t length = 0;
  if (!to_sockaddr(address, storage, length)) return std::nullopt;
  return address;
}

std::string address_text(const Address& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  return (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

bool is_loopback(const Address& address) {
  in_addr v4{};
  if (::inet_pton(AF_INET, address.host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, address.host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

BlockingConn& BlockingConn::operator=(BlockingConn&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

void BlockingConn::close() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

SocketResult<std::size_t> BlockingConn::read_some(void* buf, std::size_t n) {
  for (;;) {
    const ssize_t got = ::recv(fd_, buf, n, 0);
    if (got >= 0) return {static_cast<std::size_t>(got), {}};
    if (errno != EINTR) return {0, last_error()};
  }
}

SocketResult<std::size_t> BlockingConn::write(const void* buf, std::size_t n) {
  std::size_t sent = 0;
  while (sent < n) {
    const ssize_t put = ::send(fd_, static_cast<const char*>(buf) + sent, n - sent, MSG_NOSIGNAL);
    if (put >= 0) {
      sent += static_cast<std::size_t>(put);
    } else if (errno != EINTR) {
      return {sent, last_error()};
    }
  }
  return {sent, {}};
}

SocketResult<BlockingListener> BlockingListener::listen(const Address& address, int backlog) {
  sockaddr_storage storage;
  socklen_t length = 0;
  if (!to_sockaddr(address, storage, length)) {
    return {{}, std::make_error_code(std::errc::invalid_argument)};
  }
  BlockingListener listener;
  listener.conn_ = BlockingConn(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int fd = listener.fd();
  if (fd < 0) return {{}, last_error()};
  const int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      ::bind(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0 || ::listen(fd, backlog) != 0) {
    return {{}, last_error()};
  }
  return {std::move(listener), {}};
}

SocketResult<BlockingConn> BlockingListener::accept() {
  for (;;) {
    const int fd = ::accept4(conn_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      set_no_delay(fd);
      return {BlockingConn(fd), {}};
    }
    if (errno != EINTR && errno != ECONNABORTED) return {{}, last_error()};
  }
}

Address BlockingListener::local_address() const {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  ::getsockname(conn_.fd(), reinterpret_cast<sockaddr*>(&storage), &length);
  char host[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    return {host, ntohs(v6->sin6_port)};
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
  ::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
  return {host, ntohs(v4->sin_port)};
}

SocketResult<BlockingConn> blocking_connect(const Address& address, std::chrono::milliseconds timeout,
                                            const Address* source) {
  sockaddr_storage to;
  socklen_t to_length = 0;
  if (!to_sockaddr(address, to, to_length)) return {{}, std::make_error_code(std::errc::invalid_argument)};
  BlockingConn conn(::socket(to.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!conn.is_open()) return {{}, last_error()};
  if (source) {
    sockaddr_storage from;
    socklen_t from_length = 0;
    if (!to_sockaddr(*source, from, from_length)) {
      return {{}, std::make_error_code(std::errc::invalid_argument)};
    }
    const int on = 1;
    ::setsockopt(conn.fd(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    if (::bind(conn.fd(), reinterpret_cast<const sockaddr*>(&from), from_length) != 0) {
      return {{}, last_error()};
    }
  }
  // A blocking connect gives up after SO_SNDTIMEO with EINPROGRESS.
  timeval limit{};
  limit.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  limit.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ::setsockopt(conn.fd(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  if (::connect(conn.fd(), reinterpret_cast<const sockaddr*>(&to), to_length) != 0) {
    if (errno == EINPROGRESS) return {{}, std::make_error_code(std::errc::timed_out)};
    return {{}, last_error()};
  }
  limit = {};
  ::setsockopt(conn.fd(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  set_no_delay(conn.fd());
  return {std::move(conn), {}};
}

}  // namespace greenbench
