// green/detail/task.h: the task control block (Task), the spin lock and wait queue that
// every blocking primitive is built from, and the park/wake seam into the scheduler.
//
// Invariant: a Task is in at most one queue at a time (a run queue, a timer heap or one
// wait queue), linked through `next`; whoever holds the queue's lock owns that link.
// A parked task becomes visible to wakers only after it has been switched out (the
// scheduler releases the wait queue's lock on the next context), so a wake can never
// resume a task that is still running on its own stack.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace green {

// Identifies a task for the life of the process; never reused, never 0.
using TaskId = std::uint64_t;

namespace detail {

// A test-and-test-and-set lock for the short critical sections of wait queues. It
// never parks anything: holders only ever run a handful of instructions under it.
class SpinLock {
 public:
  void lock() noexcept {
    for (unsigned spins = 0; flag_.exchange(true, std::memory_order_acquire);) {
      while (flag_.load(std::memory_order_relaxed)) backoff(++spins);
    }
  }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }

 private:
  static void backoff(unsigned spins) noexcept;  // pause, then sched_yield (holder preempted)
  std::atomic<bool> flag_{false};
};

// The C++ runtime's per-thread exception state, laid out as the Itanium C++ ABI's
// __cxa_eh_globals (libstdc++ and libc++ alike): the stack of exceptions being handled
// (std::current_exception) and the count of those in flight (std::uncaught_exceptions).
// Each task keeps its own while it is switched out (src/context.h).
struct ExceptionState {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

// Where a suspended context lives: the Boost.Context handle, its exception state, and what
// the sanitizers need to follow a stack switch (only in builds under them: every byte
// here is a byte of every task block). Written only by the context switch
// (src/context.h).
struct ContextState {
  void* fctx = nullptr;  // boost fcontext_t of the suspended context
  ExceptionState eh;     // its exception state while it is switched out
#if defined(__SANITIZE_ADDRESS__)
  const void* stack_bottom = nullptr;  // lowest address of its stack
  std::size_t stack_size = 0;
  void* asan_fake_stack = nullptr;
#endif
#if defined(__SANITIZE_THREAD__)
  void* tsan_fiber = nullptr;
#endif
};

// The usable range of a fiber stack: [base, base + size); a guard page lies below base.
struct Stack {
  void* base = nullptr;
  std::size_t size = 0;
#if defined(__SANITIZE_THREAD__)
  void* tsan_fiber = nullptr;  // TSan's fiber for this stack (src/context.h)
#endif
  explicit operator bool() const noexcept { return base != nullptr; }
};

// join_state values; any other value is the Task* of a parked joiner. The state also
// decides who frees the task: the body and the handle each exchange their mark in, and
// whichever comes second (sees the other's mark) frees it. One atomic op per side.
inline constexpr std::uintptr_t kRunning = 0;
inline constexpr std::uintptr_t kDone = 1;      // the body has ended (set by the task)
inline constexpr std::uintptr_t kDetached = 2;  // no handle any more (set by the handle)

// The control block of one task. Allocated from the scheduler's task blocks (see
// task_alloc below), never with plain new; the closure and its result live inside it.
struct Task {
  Task* next = nullptr;  // queue link; owned by the queue that holds the task
  ContextState ctx;      // saved context; owned by the worker running it
  Stack stack;           // empty until the task first runs (stacks are lazy)
  // Set at spawn; ids stay below 2^48 (a thousand years of spawns at 10 million a second).
  TaskId id : 48 = 0;
  // 1 + the worker it is pinned to (spawn_on), or 0: in id's word, so the block keeps
  // room for a five-word closure.
  TaskId pin : 16 = 0;
  std::atomic<std::uintptr_t> join_state{kRunning};  // see constants above
  std::exception_ptr error;                          // what escaped the body, for the joiner

  virtual void invoke() = 0;  // runs the closure once, keeps its result
  virtual ~Task() = default;
};

// Task blocks: fixed-size, pooled per worker, enumerable at shutdown (so that tasks
// still alive when the root task returns can be destroyed). 128 bytes: the Task (80
// outside the sanitizers) and a closure of up to five words for a task that returns
// nothing (skynet's has five); a closure or result that does not fit is boxed on the
// heap by TaskImpl, one allocation more per spawn. Every 16 bytes here are 16 MB of
// memory per million tasks alive (tests/task_blocks_test.cpp checks the five words).
inline constexpr std::size_t kTaskBlockSize = 128;
void* task_alloc();
void task_free(Task* task) noexcept;

// Destroys the task (closure, result) and frees its block; by its last owner only.
void task_destroy(Task* task) noexcept;

// Makes `task` runnable and hands it to the scheduler. Called by spawn.
void submit(Task* task);

// The scheduler seam for blocking primitives. Must be called from inside a task.
Task* current_task() noexcept;
// Suspends the current task, releasing `lock` only once it is switched out.
void park(SpinLock& lock);
// Makes a parked task runnable again (on the caller's worker, or the global queue when
// called from outside the runtime).
void wake(Task* task);

// Ends the process with a message naming the task; used where an exception has nowhere
// to go (a detached task, a handle dropped without join).
[[noreturn]] void die_with_task_exception(TaskId id, const std::exception_ptr& error) noexcept;

// An intrusive FIFO of nodes linked through their `next` member: parked tasks in
// WaitQueue, channel waiters in Channel. Not synchronised: guard it with a SpinLock
// held across the check-then-park.
template <class Node>
class IntrusiveFifo {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  void push(Node* n) noexcept {
    n->next = nullptr;
    (tail_ ? tail_->next : head_) = n;
    tail_ = n;
  }
  Node* pop() noexcept {
    Node* n = head_;
    if (n) {
      head_ = n->next;
      if (!head_) tail_ = nullptr;
      n->next = nullptr;
    }
    return n;
  }

 private:
  Node* head_ = nullptr;
  Node* tail_ = nullptr;
};
using WaitQueue = IntrusiveFifo<Task>;

// Whether a T stored after `Prefix` leaves the whole within a task block.
template <class Prefix, class T>
inline constexpr bool kFitsAfter =
    alignof(T) <= alignof(std::max_align_t) &&
    (sizeof(Prefix) + alignof(T) - 1) / alignof(T) * alignof(T) + sizeof(T) <= kTaskBlockSize;

template <class R>
struct InlineResultOf : Task {
  std::optional<R> result;
};

// The result a joiner takes (`*result`): inline when it leaves room for at least a boxed
// closure, else boxed.
template <class R>
struct TaskOf : Task {
  using Storage =
      std::conditional_t<kFitsAfter<InlineResultOf<R>, void*>, std::optional<R>, std::unique_ptr<R>>;
  Storage result;
  template <class G>
  void keep_result(G&& produce) {
    if constexpr (std::is_same_v<Storage, std::optional<R>>) {
      result.emplace(std::forward<G>(produce)());
    } else {
      result = std::make_unique<R>(std::forward<G>(produce)());
    }
  }
};
template <>
struct TaskOf<void> : Task {};

// A task running closure F. The closure is destroyed as soon as it returns, so its
// captures are released before the handle is joined.
template <class F, class R>
struct TaskImpl final : TaskOf<R> {
  static constexpr bool kInline = kFitsAfter<TaskOf<R>, std::optional<F>>;
  using Storage = std::conditional_t<kInline, std::optional<F>, std::unique_ptr<F>>;
  Storage fn;

  explicit TaskImpl(F&& f) {
    if constexpr (kInline) {
      fn.emplace(std::move(f));
    } else {
      fn = std::make_unique<F>(std::move(f));
    }
  }
  void invoke() override {
    if constexpr (std::is_void_v<R>) {
      (*fn)();
    } else {
      this->keep_result(*fn);
    }
    fn.reset();
  }
};

template <class F, class R = std::invoke_result_t<std::decay_t<F>&>>
TaskOf<R>* make_task(F&& f) {
  using Impl = TaskImpl<std::decay_t<F>, R>;
  static_assert(sizeof(Impl) <= kTaskBlockSize && alignof(Impl) <= alignof(std::max_align_t));
  void* mem = task_alloc();
  return new (mem) Impl(std::decay_t<F>(std::forward<F>(f)));
}

}  // namespace detail
}  // namespace green
