// task_per_connection_server.h: the echo server that gives every connection a task of its
// own, written once as a template over TaskRuntime: a thread per connection blocked in the
// kernel (std_thread, RT::Net = BlockingSockets) or a fiber per connection parked on the
// runtime's netpoller (fiber/workers:W, RT::Net = green::net). The root task listens and
// accepts; each connection's task runs serve_connection(): read some bytes, hand them to
// its EchoSession, write what it returns.
//
// When the server cannot take a connection it says so on stderr, in one line each time
// the reason changes, `refused: <bound>` (server_process.h): `nofile` when accept fails
// with EMFILE or ENFILE (the connection waits in the backlog while the loop retries every
// kAcceptBackoff, as Go's net/http does), or, when no task can be created for a
// connection (which is then closed: the client sees it closed), the limit that
// system_limits.h finds bound (pid_max, threads_max, ...) or `errno:<NAME>`.
//
// Invariant: every connection is closed exactly once, by its task or, when no task could
// be made for it, at once; the accept loop joins every finished task before it accepts
// the next connection, so a long-running server holds no finished thread.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <iterator>
#include <list>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "echo/echo_session.h"
#include "echo/server_process.h"
#include "harness/system_limits.h"
#include "tasks/task_runtime.h"
#include "threads/blocking_socket.h"

namespace greenbench::echo {

// One page: a request is 64 bytes by default, an HTTP request about a hundred.
inline constexpr std::size_t kConnectionReadBytes = 4096;

// Serves one connection until the client closes it or the session is done, then closes it.
template <class Conn>
void serve_connection(Conn& conn) {
  EchoSession session;
  char buffer[kConnectionReadBytes];
  while (!session.done()) {
    const auto got = conn.read_some(buffer, sizeof buffer);
    if (!got || got.value == 0) break;
    const std::string_view reply = session.receive(std::string_view(buffer, got.value));
    if (!reply.empty() && !conn.write(reply.data(), reply.size())) break;
  }
  conn.close();
}

// The connection tasks of one accept loop: each task, when done, pushes its slot on a
// lock-free list that only the accept loop takes from (and joins).
template <TaskRuntime RT>
class ConnectionTasks {
 public:
  explicit ConnectionTasks(const RT& rt) : rt_(rt) {}
  ConnectionTasks(const ConnectionTasks&) = delete;
  ConnectionTasks& operator=(const ConnectionTasks&) = delete;

  // Starts body() as a task; throws what RT::spawn throws, holding nothing then.
  template <class Body>
  void spawn(Body&& body) {
    Slot* slot = &slots_.emplace_back();
    slot->self = std::prev(slots_.end());
    try {
      slot->handle = rt_.spawn([this, slot, body = std::forward<Body>(body)]() mutable {
        body();
        push_finished(slot);
      });
    } catch (...) {
      slots_.erase(slot->self);
      throw;
    }
  }

  // Joins every task that has finished (called by the accept loop only).
  void reap() {
    for (Slot* slot = finished_.exchange(nullptr, std::memory_order_acquire); slot;) {
      Slot* next = slot->next_finished;
      slot->handle.join();
      slots_.erase(slot->self);
      slot = next;
    }
  }

 private:
  struct Slot {
    typename RT::Handle handle;
    Slot* next_finished = nullptr;  // written by its task, once, before the push
    typename std::list<Slot>::iterator self;
  };

  void push_finished(Slot* slot) {
    slot->next_finished = finished_.load(std::memory_order_relaxed);
    while (!finished_.compare_exchange_weak(slot->next_finished, slot, std::memory_order_release,
                                            std::memory_order_relaxed)) {
    }
  }

  const RT& rt_;
  std::list<Slot> slots_;  // the accept loop's only
  std::atomic<Slot*> finished_{nullptr};
};

// Listens on `address`, calls on_listening(the address it got) once ready, then accepts
// and serves connections until the process ends. Throws std::system_error when it cannot
// listen or accept fails for a reason other than a resource limit.
template <TaskRuntime RT, class OnListening>
void serve_task_per_connection(const RT& rt, const Address& address, OnListening&& on_listening) {
  using Net = typename RT::Net;
  rt.run([&] {
    auto listening = Net::Listener::listen(address, kListenBacklog);
    if (!listening) throw std::system_error(listening.error, "listen on " + address_text(address));
    typename Net::Listener listener = std::move(listening.value);
    on_listening(listener.local_address());
    ConnectionTasks<RT> tasks(rt);
    RefusalLog log;
    for (;;) {
      tasks.reap();
      auto accepted = listener.accept();
      if (!accepted) {
        const std::error_code error = accepted.error;
        if (error == std::errc::too_many_files_open || error == std::errc::too_many_files_open_in_system) {
          log.refused("nofile");
          Net::back_off(kAcceptBackoff);
          continue;
        }
        throw std::system_error(error, "accept");
      }
      try {
        tasks.spawn([conn = std::move(accepted.value)]() mutable { serve_connection(conn); });
      } catch (const std::system_error& error) {
        log.refused(spawn_failure_bound(RT::kind, error.code().value()));
      } catch (const std::bad_alloc&) {
        log.refused(spawn_failure_bound(RT::kind, ENOMEM));
      }
    }
  });
}

}  // namespace greenbench::echo
