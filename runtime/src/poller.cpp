// poller.cpp: the netpoller: epoll registration, park/ready/timeout/close of descriptor
// waits, and PollDesc recycling (design and invariant in poller.h).
#include "poller.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "fatal.h"
#include "parked_stacks.h"
#include "scheduler.h"
#include "worker.h"

namespace green::detail {
namespace {

constexpr std::size_t kChunk = 256;

// Post-switch action of a parked waiter: publish it, then make sure some idle worker
// blocks in epoll_wait for it (otherwise only polls between tasks would see its event).
void unlock_desc(Worker& w, Task* self, void* pd) {
  mark_parked(self);
  static_cast<PollDesc*>(pd)->lock.unlock();
  if (!w.sched.poller().blocker_active()) w.sched.notify_work();
}

}  // namespace

bool io_wait_ended(const TimerEntry& e) noexcept { return e.pd->wait_ended(e.side, e.token); }

Poller::Poller(Scheduler& sched) : sched_(sched) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || wakefd_ < 0) fatal("cannot create the netpoller's epoll instance or eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered: stays readable until a poll drains it
  ev.data.ptr = nullptr;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) != 0) fatal("cannot register the netpoller's eventfd");
}

Poller::~Poller() {
  close_all();
  ::close(wakefd_);
  ::close(epfd_);
}

PollDesc* Poller::take_desc() {
  std::lock_guard lk(pool_mu_);
  if (PollDesc* pd = free_) {
    free_ = pd->next_free;
    return pd;
  }
  if (chunks_.empty() || chunk_used_ == kChunk) {
    chunks_.push_back(std::make_unique<PollDesc[]>(kChunk));
    chunk_used_ = 0;
  }
  return &chunks_.back()[chunk_used_++];
}

PollDesc* Poller::open(int fd, std::uint32_t& seq, std::error_code& error) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    error.assign(errno, std::generic_category());
    ::close(fd);
    return nullptr;
  }
  int type = 0;
  socklen_t len = sizeof type;
  bool is_socket = ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;

  PollDesc* pd = take_desc();
  pd->lock.lock();  // a late event of the descriptor's previous user may still land here
  pd->fd = fd;
  pd->is_socket = is_socket;
  for (auto& s : pd->side) {
    s.waiter = nullptr;
    s.ready = false;
  }
  // Not closing, no reference, under the sequence number destroy() left.
  seq = PollDesc::seq_of(pd->use.load(std::memory_order_relaxed));
  pd->use.store(std::uint64_t{seq} << 32, std::memory_order_release);
  pd->lock.unlock();
  registrations_.fetch_add(1, std::memory_order_release);

  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = pd;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    error.assign(errno, std::generic_category());
    pd->use.fetch_or(PollDesc::kClosing, std::memory_order_relaxed);
    destroy(pd);
    return nullptr;
  }
  return pd;
}

bool Poller::acquire(PollDesc* pd, std::uint32_t seq) noexcept {
  std::uint64_t v = pd->use.load(std::memory_order_relaxed);
  do {
    if (PollDesc::seq_of(v) != seq || (v & PollDesc::kClosing)) return false;
  } while (!pd->use.compare_exchange_weak(v, v + PollDesc::kRef, std::memory_order_acquire,
                                          std::memory_order_relaxed));
  return true;
}

void Poller::release(PollDesc* pd) noexcept {
  std::uint64_t old = pd->use.fetch_sub(PollDesc::kRef, std::memory_order_acq_rel);
  // The last call of a closing one destroys it.
  if (PollDesc::refs_of(old) == PollDesc::kRef + PollDesc::kClosing) destroy(pd);
}

void Poller::close(PollDesc* pd, std::uint32_t seq) noexcept {
  std::uint64_t old = pd->use.load(std::memory_order_relaxed);
  do {
    if (PollDesc::seq_of(old) != seq || (old & PollDesc::kClosing)) return;
  } while (!pd->use.compare_exchange_weak(old, old | PollDesc::kClosing, std::memory_order_acq_rel,
                                          std::memory_order_relaxed));
  if (sched_.tearing_down()) {
    // Workers are joined and the tasks holding references abandoned: close at once.
    destroy(pd);
    return;
  }
  Task* woken[2];
  std::size_t n = 0;
  pd->lock.lock();
  for (int s : {PollDesc::kRead, PollDesc::kWrite}) take_waiter(pd, s, IoOutcome::closed, woken, n);
  pd->lock.unlock();
  for (std::size_t i = 0; i < n; ++i) wake(woken[i]);
  if (PollDesc::refs_of(old) == 0) destroy(pd);  // no call in flight; else the last one out does
}

void Poller::destroy(PollDesc* pd) noexcept {
  // Deregister explicitly: a forked child may hold the open file description, and then
  // closing our descriptor alone would not remove it from the epoll set.
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, pd->fd, nullptr);
  ::close(pd->fd);
  // A new sequence number, still closing: a Socket that kept the pointer can no longer
  // take a reference, now or after the PollDesc's next open().
  std::uint32_t next = PollDesc::seq_of(pd->use.load(std::memory_order_relaxed)) + 1;
  pd->use.store((std::uint64_t{next} << 32) | PollDesc::kClosing, std::memory_order_relaxed);
  std::lock_guard lk(pool_mu_);
  pd->fd = -1;
  pd->next_free = free_;
  free_ = pd;
}

void Poller::take_waiter(PollDesc* pd, int s, IoOutcome outcome, Task** out, std::size_t& n) noexcept {
  PollDesc::Side& side = pd->side[s];
  IoWaiter* w = side.waiter;
  if (!w) {
    if (outcome == IoOutcome::ready) side.ready = true;
    return;
  }
  side.waiter = nullptr;
  side.seq.fetch_add(1, std::memory_order_relaxed);
  w->outcome = outcome;
  out[n++] = w->task;  // `w` is on the waiter's stack: not touched after the lock drops
  waiters_.fetch_sub(1, std::memory_order_relaxed);
}

IoOutcome Poller::wait(PollDesc* pd, int s, const Clock::time_point* deadline) {
  Worker* w = current_worker();
  if (!w) fatal("a green::net call blocked outside a task");
  PollDesc::Side& side = pd->side[s];
  pd->lock.lock();
  if (pd->closing()) {
    pd->lock.unlock();
    return IoOutcome::closed;
  }
  if (side.ready) {
    side.ready = false;
    pd->lock.unlock();
    return IoOutcome::ready;
  }
  if (deadline && *deadline <= Clock::now()) {
    pd->lock.unlock();
    return IoOutcome::timed_out;
  }
  if (side.waiter) fatal("two tasks wait to read (or to write) one descriptor at once");
  IoWaiter me{w->running(), IoOutcome::ready};
  side.waiter = &me;
  waiters_.fetch_add(1, std::memory_order_relaxed);
  // The heap is this worker's own and fires only on its thread, after the switch.
  if (deadline) w->add_io_timer(*deadline, pd, s, side.seq.load(std::memory_order_relaxed));
  Worker::park_current(*w, {&unlock_desc, nullptr, pd});
  return me.outcome;
}

Task* Poller::expire(PollDesc* pd, int s, std::uint32_t token) noexcept {
  Task* woken[1];
  std::size_t n = 0;
  pd->lock.lock();
  if (!pd->wait_ended(s, token)) take_waiter(pd, s, IoOutcome::timed_out, woken, n);
  pd->lock.unlock();
  return n ? woken[0] : nullptr;
}

std::size_t Poller::poll(const timespec* timeout, Task** out, bool blocker, std::size_t max_events) {
  epoll_event events[kMaxEvents];
  const int max = static_cast<int>(std::min(max_events, kMaxEvents));
  int got = ::epoll_pwait2(epfd_, events, max, timeout, nullptr);
  if (got < 0 && errno == ENOSYS) {  // kernels before 5.11: milliseconds, rounded up
    int ms = timeout ? static_cast<int>(std::min<long long>(
                           timeout->tv_sec * 1000LL + (timeout->tv_nsec + 999'999) / 1'000'000, 1 << 30))
                     : -1;
    got = ::epoll_wait(epfd_, events, max, ms);
  }
  if (got < 0) return 0;                                        // EINTR: the caller looks again
  if (got > 0) registrations_.load(std::memory_order_acquire);  // see poller.h
  std::size_t n = 0;
  for (int i = 0; i < got; ++i) {
    auto* pd = static_cast<PollDesc*>(events[i].data.ptr);
    if (!pd) {
      // Only the blocker may consume an interrupt: meant for it, it would otherwise be
      // lost to a worker polling in passing, and the blocker would sleep on.
      if (blocker) {
        std::uint64_t drained;
        [[maybe_unused]] ssize_t r = ::read(wakefd_, &drained, sizeof drained);
      }
      continue;
    }
    std::uint32_t e = events[i].events;
    pd->lock.lock();
    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
      take_waiter(pd, PollDesc::kRead, IoOutcome::ready, out, n);
    if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) take_waiter(pd, PollDesc::kWrite, IoOutcome::ready, out, n);
    pd->lock.unlock();
  }
  return n;
}

void Poller::interrupt() noexcept {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(wakefd_, &one, sizeof one);
}

void Poller::close_all() noexcept {
  std::lock_guard lk(pool_mu_);
  for (std::size_t c = 0; c < chunks_.size(); ++c) {
    std::size_t used = c + 1 == chunks_.size() ? chunk_used_ : kChunk;
    for (std::size_t i = 0; i < used; ++i) {
      PollDesc& pd = chunks_[c][i];
      if (pd.fd < 0) continue;
      ::close(pd.fd);  // the epoll instance goes with the poller
      pd.fd = -1;
    }
  }
}

}  // namespace green::detail
