// green/channel.h: Channel<T>, Go's chan T: unbuffered (capacity 0: a send completes only
// when a receiver takes the value) or buffered, and closable.
//
// Invariant (under guard_): a channel never holds both waiting receivers and a value a
// receiver could take: if recv_waiters_ is non-empty, the buffer is empty and no sender
// waits. A value passes either through the buffer or directly from one waiter's slot to
// the other side, exactly once. Close wakes every waiter: receivers get nullopt once the
// buffer is drained, senders throw ChannelClosed (Go panics).
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "green/detail/task.h"

namespace green {

struct ChannelClosed : std::logic_error {
  ChannelClosed() : std::logic_error("green::Channel: send on or close of a closed channel") {}
};

template <class T>
class Channel {
 public:
  explicit Channel(std::size_t capacity = 0) : buffer_(capacity) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Parks until the value is buffered or taken by a receiver. Throws ChannelClosed if
  // the channel is or gets closed first.
  void send(T value) {
    guard_.lock();
    if (try_send_locked(value)) return;
    SendWaiter w{detail::current_task(), &value};
    send_waiters_.push(&w);
    detail::park(guard_);
    if (!w.delivered) throw ChannelClosed();
  }

  // Parks until a value arrives; nullopt once the channel is closed and drained.
  std::optional<T> recv() {
    guard_.lock();
    std::optional<T> out;
    if (try_recv_locked(out)) return out;
    RecvWaiter w{detail::current_task(), &out};
    recv_waiters_.push(&w);
    detail::park(guard_);
    return out;
  }

  // Non-blocking forms: false / nullopt where the blocking form would park.
  bool try_send(T& value) {
    guard_.lock();
    if (try_send_locked(value)) return true;
    guard_.unlock();
    return false;
  }
  std::optional<T> try_recv() {
    guard_.lock();
    std::optional<T> out;
    if (!try_recv_locked(out)) guard_.unlock();
    return out;
  }

  void close() {
    guard_.lock();
    if (closed_) {
      guard_.unlock();
      throw ChannelClosed();
    }
    closed_ = true;
    detail::IntrusiveFifo<RecvWaiter> receivers = std::exchange(recv_waiters_, {});
    detail::IntrusiveFifo<SendWaiter> senders = std::exchange(send_waiters_, {});
    guard_.unlock();
    while (RecvWaiter* r = receivers.pop()) detail::wake(r->task);
    while (SendWaiter* s = senders.pop()) detail::wake(s->task);
  }

  std::size_t capacity() const noexcept { return buffer_.size(); }

 private:
  struct SendWaiter {
    detail::Task* task;
    T* value;
    bool delivered = false;
    SendWaiter* next = nullptr;
  };
  struct RecvWaiter {
    detail::Task* task;
    std::optional<T>* slot;
    RecvWaiter* next = nullptr;
  };

  // Called with guard_ held; releases it and returns true when the send completed.
  bool try_send_locked(T& value) {
    if (closed_) {
      guard_.unlock();
      throw ChannelClosed();
    }
    if (RecvWaiter* r = recv_waiters_.pop()) {
      r->slot->emplace(std::move(value));
      guard_.unlock();
      detail::wake(r->task);
      return true;
    }
    if (count_ < buffer_.size()) {
      buffer_[(head_ + count_++) % buffer_.size()].emplace(std::move(value));
      guard_.unlock();
      return true;
    }
    return false;
  }

  // Called with guard_ held; releases it and returns true when `out` is final (a value,
  // or nullopt because the channel is closed and drained).
  bool try_recv_locked(std::optional<T>& out) {
    SendWaiter* s = nullptr;
    if (count_ > 0) {
      auto& cell = buffer_[head_];
      out.emplace(std::move(*cell));
      cell.reset();
      head_ = (head_ + 1) % buffer_.size();
      --count_;
      if ((s = send_waiters_.pop())) {  // a parked sender's value takes the freed cell
        buffer_[(head_ + count_++) % buffer_.size()].emplace(std::move(*s->value));
      }
    } else if ((s = send_waiters_.pop())) {  // unbuffered: take straight from the sender
      out.emplace(std::move(*s->value));
    } else if (!closed_) {
      return false;
    }
    if (s) s->delivered = true;
    guard_.unlock();
    if (s) detail::wake(s->task);
    return true;
  }

  detail::SpinLock guard_;
  std::vector<std::optional<T>> buffer_;  // ring of capacity() cells; guarded by guard_
  std::size_t head_ = 0;                  // guarded by guard_
  std::size_t count_ = 0;                 // guarded by guard_
  bool closed_ = false;                   // guarded by guard_
  detail::IntrusiveFifo<SendWaiter> send_waiters_;
  detail::IntrusiveFifo<RecvWaiter> recv_waiters_;
};

}  // namespace green
