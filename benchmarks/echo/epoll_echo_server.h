// epoll_echo_server.h: the echo server with no tasks at all, the floor the task-per-
// connection servers are measured against: `loops` threads, each an epoll event loop
// (level-triggered, non-blocking sockets) over the connections it accepted from the one
// listening socket (EPOLLEXCLUSIVE, so a new connection wakes one loop). A connection
// costs an EchoSession and, only while the kernel will not take a reply whole, the unsent
// rest of it; reads go through the loop's one buffer.
//
// Invariant: a connection is registered with exactly one loop, which alone reads, writes,
// closes and frees it; while it holds unsent bytes the loop waits for it to be writable
// and reads nothing more from it, so a client that does not read cannot make the server
// buffer without bound.
#pragma once

#include <functional>

#include "threads/blocking_socket.h"

namespace greenbench::echo {

// Listens on `address`, calls on_listening(the address it got) once ready, then serves
// until the process ends. Throws std::system_error when it cannot listen.
void serve_epoll(const Address& address, unsigned loops,
                 const std::function<void(const Address&)>& on_listening);

}  // namespace greenbench::echo
