// epoll_echo_server.cpp: the event loops of the floor server (see epoll_echo_server.h).
#include "echo/epoll_echo_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "echo/echo_session.h"
#include "echo/server_process.h"

namespace greenbench::echo {
namespace {

constexpr std::size_t kLoopReadBytes = 64 * 1024;
constexpr int kEventsPerWait = 256;

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

struct Connection {
  int fd;
  EchoSession session;
  std::string unsent;
};

class EventLoop {
 public:
  explicit EventLoop(int listener) : listener_(listener), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_ < 0) fail("epoll_create1");
    epoll_event event{};
    event.events = EPOLLIN | EPOLLEXCLUSIVE;
    event.data.ptr = nullptr;  // the listener
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_, &event) != 0) fail("epoll_ctl");
  }

  [[noreturn]] void run() {
    epoll_event events[kEventsPerWait];
    for (;;) {
      const int ready = ::epoll_wait(epoll_, events, kEventsPerWait, -1);
      if (ready < 0) {
        if (errno == EINTR) continue;
        fail("epoll_wait");
      }
      for (int i = 0; i < ready; ++i) {
        auto* conn = static_cast<Connection*>(events[i].data.ptr);
        if (!conn) {
          accept_all();
        } else if (!conn->unsent.empty()) {
          on_writable(conn);
        } else {
          on_readable(conn);
        }
      }
    }
  }

 private:
  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
          refusals_.refused("nofile");
          std::this_thread::sleep_for(kAcceptBackoff);  // the listener stays ready meanwhile
        } else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
          fail("accept4");
        }
        return;
      }
      const int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      auto conn = std::make_unique<Connection>(Connection{fd, {}, {}});
      if (!watch(conn.get(), EPOLL_CTL_ADD, EPOLLIN)) {
        ::close(fd);
        continue;
      }
      conn.release();  // owned by this loop from now on: freed by close()
    }
  }

  void on_readable(Connection* conn) {
    const ssize_t got = ::recv(conn->fd, buffer_.data(), buffer_.size(), 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (got <= 0) return close(conn);
    send(conn, conn->session.receive(std::string_view(buffer_.data(), static_cast<std::size_t>(got))));
  }

  void on_writable(Connection* conn) {
    const std::string unsent = std::move(conn->unsent);
    conn->unsent.clear();
    send(conn, unsent);
    if (conn && conn->unsent.empty() && !conn->session.done()) watch(conn, EPOLL_CTL_MOD, EPOLLIN);
  }

  // Sends what it can of `bytes` now and keeps the rest in conn->unsent.
  void send(Connection*& conn, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t put = ::send(conn->fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (put < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return close(conn);
        const bool was_empty = conn->unsent.empty();
        conn->unsent.assign(bytes);
        if (was_empty && !watch(conn, EPOLL_CTL_MOD, EPOLLOUT)) close(conn);
        return;
      }
      bytes.remove_prefix(static_cast<std::size_t>(put));
    }
    if (conn->session.done()) close(conn);
  }

  bool watch(Connection* conn, int op, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.ptr = conn;
    return ::epoll_ctl(epoll_, op, conn->fd, &event) == 0;
  }

  // Closes and frees the connection; `conn` is null afterwards.
  void close(Connection*& conn) {
    ::close(conn->fd);  // also takes it out of the epoll set
    delete conn;
    conn = nullptr;
  }

  const int listener_;
  const int epoll_;
  std::vector<char> buffer_ = std::vector<char>(kLoopReadBytes);
  RefusalLog refusals_;
};

}  // namespace

void serve_epoll(const Address& address, unsigned loops,
                 const std::function<void(const Address&)>& on_listening) {
  auto listening = BlockingListener::listen(address, kListenBacklog);
  if (!listening) throw std::system_error(listening.error, "listen on " + address_text(address));
  BlockingListener listener = std::move(listening.value);
  if (::fcntl(listener.fd(), F_SETFL, ::fcntl(listener.fd(), F_GETFL) | O_NONBLOCK) != 0) {
    fail("fcntl");
  }
  std::vector<std::unique_ptr<EventLoop>> event_loops;
  for (unsigned i = 0; i < loops; ++i) event_loops.push_back(std::make_unique<EventLoop>(listener.fd()));
  on_listening(listener.local_address());
  for (unsigned i = 1; i < loops; ++i) std::thread([&loop = *event_loops[i]] { loop.run(); }).detach();
  event_loops[0]->run();
}

}  // namespace greenbench::echo
