// process_barrier.h: the heavy side of an asymmetric Dekker handshake. membarrier(2)'s
// private expedited command makes every CPU now running a thread of this process execute
// a full memory barrier; a thread that is not running passed one as it was switched out.
// So where one side of a store-then-load handshake is rare (a trimmer pass, a worker going
// to sleep) it calls process_barrier() between its store and its load, and the frequent
// side (every wake) needs only a compiler barrier between its own (as liburcu and folly's
// asymmetric barriers do): either side sees the other's store.
//
// Invariant: process_barrier() is called only where process_barrier_available() has
// returned true; that first call registers the process, as the command requires.
#pragma once

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace green::detail {

// Registers the process on the first call; false where the command is refused (kernels
// before 4.14, some sandboxes, valgrind): the caller then fences on both sides.
inline bool process_barrier_available() noexcept {
  static const bool ok = ::syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0u, 0) == 0;
  return ok;
}

// A full memory barrier on every CPU running this process's threads (an interrupt on
// each: microseconds, for the rare side only).
inline void process_barrier() noexcept {
  ::syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0u, 0);
}

}  // namespace green::detail
