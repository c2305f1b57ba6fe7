// poller.h: the run's netpoller (Go's netpoll.go and netpoll_epoll.go): one epoll
// instance, a PollDesc per registered descriptor, and the park/ready protocol between
// tasks waiting on descriptors and whoever polls.
//
// Design:
//   * Descriptors are registered once, edge-triggered, for input and output. An event
//     that finds no waiter leaves its side `ready`; the next wait consumes that and the
//     caller retries its system call. Spurious readiness is therefore harmless: a late
//     event for a closed descriptor only makes the next user of the PollDesc retry once.
//   * A PollDesc is recycled as soon as its descriptor is closed, while a Socket on
//     another worker may still hold the pointer (close() may come from any task at any
//     time). So every use names the descriptor by pointer *and* sequence number, as Go's
//     pollDesc.fdseq does: the number is bumped when the PollDesc is freed, and lives in
//     the same atomic word as the reference count, so acquire() checks both at once and
//     a call on a closed Socket can never reach the PollDesc's next descriptor.
//   * A waiting task parks holding the PollDesc's lock, released by the post-switch
//     action, so a waker (an event, its timeout, a close) can never resume a task that is
//     still on its own stack. Whoever takes the waiter out of its side owns the wake-up.
//   * Timeouts are entries in the waiting worker's timer heap (any idle worker may fire
//     them), tagged with the side's wait sequence number; an entry whose wait already
//     ended is stale and ignored.
//   * Polling: a worker with nothing local polls without blocking before it steals; an
//     idle worker, when tasks wait on descriptors or timers are pending, becomes the one
//     blocker in epoll_wait (timeout: the earliest timer of any worker) instead of
//     sleeping on its futex, and is woken through an eventfd. It decides so only after
//     registering as idle (scheduler.h), so a task parking meanwhile cannot miss it.
//     While no one blocks, busy workers poll every fairness tick, and a task that yields
//     with nothing else runnable polls in place.
//   * PollDescs live in chunks that are freed only with the poller, so a pointer taken
//     from an event stays valid for the whole run.
//   * epoll orders a registration before the events it delivers, but in the kernel,
//     where the C++ memory model (and TSan) cannot see it. `registrations_` says it in
//     C++: open() bumps it (release) before epoll_ctl, poll() loads it (acquire) after
//     epoll_wait, and since every bump is a read-modify-write the load synchronises with
//     all of them, so a fresh PollDesc's construction happens-before its first event.
//
// Invariant: a descriptor is closed exactly once, when it is closing and no call holds a
// reference (`use`: 2 per call in flight, bit 0 = closing); a reference is only ever
// taken under the sequence number the descriptor was opened with; a side has at most
// one waiter, and it is woken exactly once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

#include "green/detail/task.h"
#include "timer_heap.h"

struct timespec;

namespace green::detail {

class Scheduler;
class Worker;

enum class IoOutcome : int { ready, timed_out, closed };

// A task parked on one side of a PollDesc; lives on that task's stack.
struct IoWaiter {
  Task* task;
  IoOutcome outcome;
};

struct PollDesc {
  static constexpr int kRead = 0, kWrite = 1;
  struct Side {
    IoWaiter* waiter = nullptr;         // guarded by lock
    bool ready = false;                 // guarded by lock
    std::atomic<std::uint32_t> seq{0};  // bumped (under lock) when a parked wait ends
  };

  SpinLock lock;
  int fd = -1;
  bool is_socket = false;
  Side side[2];
  // High half: the sequence number of the descriptor (bumped when the PollDesc is
  // freed); low half: 2 per call in flight | 1 once closing.
  std::atomic<std::uint64_t> use{0};
  PollDesc* next_free = nullptr;  // guarded by the poller's pool lock

  static constexpr std::uint64_t kClosing = 1, kRef = 2;
  static std::uint32_t seq_of(std::uint64_t use) noexcept { return static_cast<std::uint32_t>(use >> 32); }
  static std::uint32_t refs_of(std::uint64_t use) noexcept { return static_cast<std::uint32_t>(use); }
  bool closing() const noexcept { return use.load(std::memory_order_relaxed) & kClosing; }
  bool wait_ended(int s, std::uint32_t token) const noexcept {
    return side[s].seq.load(std::memory_order_relaxed) != token;
  }
};

class Poller {
 public:
  explicit Poller(Scheduler& sched);
  ~Poller();  // closes every descriptor still registered (see close_all)

  // Registers `fd` (made non-blocking) and sets `seq`, which names it in every later
  // use. On failure closes fd and returns nullptr.
  PollDesc* open(int fd, std::uint32_t& seq, std::error_code& error);
  // A call in flight: acquire fails once the descriptor `seq` is closing or gone.
  bool acquire(PollDesc* pd, std::uint32_t seq) noexcept;
  void release(PollDesc* pd) noexcept;
  // Marks the descriptor `seq` closing, wakes its waiters with IoOutcome::closed, and
  // closes it once no call holds it. Repeated calls, or calls after the PollDesc went
  // to another descriptor, do nothing.
  void close(PollDesc* pd, std::uint32_t seq) noexcept;

  // From a task holding a reference: parks until `side` is ready, the deadline passes
  // (nullptr: none), or the descriptor is closed.
  IoOutcome wait(PollDesc* pd, int side, const Clock::time_point* deadline);
  // A timer entry of `pd` fired: the task to wake, if that wait is still the same one.
  Task* expire(PollDesc* pd, int side, std::uint32_t token) noexcept;

  // Collects the tasks of at most `max_events` ready descriptors (<= kMaxEvents) into
  // `out` (room for 2 * max_events); timeout nullptr blocks until an event or
  // interrupt(). Returns how many. `blocker`: the caller is the worker that sleeps
  // here, the one that consumes interrupts.
  static constexpr std::size_t kMaxEvents = 128, kMaxWoken = 2 * kMaxEvents;
  std::size_t poll(const timespec* timeout, Task** out, bool blocker, std::size_t max_events);
  // Ends a blocking poll (or the next one) at once.
  void interrupt() noexcept;

  bool has_waiters() const noexcept { return waiters_.load(std::memory_order_relaxed) != 0; }
  bool blocker_active() const noexcept { return blocking_.load(std::memory_order_relaxed); }
  bool try_become_blocker() noexcept { return !blocking_.exchange(true, std::memory_order_acquire); }
  void stop_blocking() noexcept { blocking_.store(false, std::memory_order_release); }

  // At teardown, with every worker joined: closes what abandoned tasks left open.
  void close_all() noexcept;

 private:
  void take_waiter(PollDesc* pd, int side, IoOutcome outcome, Task** out, std::size_t& n) noexcept;
  void destroy(PollDesc* pd) noexcept;
  PollDesc* take_desc();

  Scheduler& sched_;
  int epfd_ = -1;
  int wakefd_ = -1;
  std::atomic<std::int64_t> waiters_{0};
  std::atomic<bool> blocking_{false};
  std::atomic<std::uint64_t> registrations_{0};  // see "epoll orders" above

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<PollDesc[]>> chunks_;  // guarded by pool_mu_
  std::size_t chunk_used_ = 0;                       // guarded by pool_mu_
  PollDesc* free_ = nullptr;                         // guarded by pool_mu_
};

}  // namespace green::detail
