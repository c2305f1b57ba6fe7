// context.h: the one seam through which the runtime switches stacks. It wraps
// Boost.Context's lowest layer (make_fcontext, and jump_fcontext or the runtime's own
// copy of it: context_jump.cpp) and tells ASan and TSan about every switch, so the
// sanitizer builds follow fibers correctly.
//
// What a switch does not save: only the callee-saved registers and the stack pointer
// are saved (Boost's fcontext ABI, less the x87/SSE control words on x86-64, where the
// jump is the runtime's own: context_jump.cpp says why); everything else is dead across
// a call anyway, and the floating-point environment stays the thread's. It does not
// touch signal masks (unlike ucontext), which is why it costs nanoseconds instead of a
// system call. Besides the registers, a switch
// saves and restores one more piece of per-thread state: the C++ exception state
// (ExceptionState, two words), so a task that parks inside a catch block, or in a
// destructor run by unwinding, finds its own exception when it resumes, on any worker.
// Other thread_local variables stay the thread's, not the task's.
//
// Invariant: the context that lands after a switch stores the suspended context's
// handle into the ContextState it was handed (Hop::from), before anything else can see
// that context; a finished context passes nullptr and is never resumed. Each switch
// also carries one pointer (the worker) to the context that lands, so the lander need
// not look it up in thread-local storage.
#pragma once

#include <cxxabi.h>

#include <boost/context/detail/fcontext.hpp>
#include <cstddef>

#include "green/detail/task.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define GREEN_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define GREEN_TSAN 1
#endif

// x86-64 System V (ELF): the runtime's own jump, context_jump.cpp, which leaves the
// floating-point control words out; elsewhere Boost.Context's jump_fcontext.
#if defined(__x86_64__) && defined(__ELF__) && defined(__linux__)
#define GREEN_OWN_JUMP 1
extern "C" boost::context::detail::transfer_t green_jump_context(boost::context::detail::fcontext_t to,
                                                                 void* data, bool as_return) noexcept;
#else
#define GREEN_OWN_JUMP 0
#endif

namespace green::detail {

namespace fctx = boost::context::detail;

// Destroys TSan's fiber of `stack` (see make_context): when the pool hands the stack's
// memory back, unmaps it, or its task is abandoned.
inline void release_stack_fiber(Stack& stack) noexcept {
#if GREEN_TSAN
  if (stack.tsan_fiber) __tsan_destroy_fiber(stack.tsan_fiber);
  stack.tsan_fiber = nullptr;
#else
  (void)stack;
#endif
}

// Prepares `state` to start running `entry` on `stack` at its first resume. Under TSan
// the fiber TSan follows the context by lives with the stack: created the first time the
// stack is used, kept with it while it is pooled, so a task that reuses a pooled stack
// pays nothing (creating one costs ~6 ms here: it touches ~790 KiB of fresh memory), and
// destroyed by release_stack_fiber when the stack's memory goes back to the OS.
inline void make_context(ContextState& state, Stack& stack, void (*entry)(fctx::transfer_t)) {
  char* top = static_cast<char*>(stack.base) + stack.size;
  state.fctx = fctx::make_fcontext(top, stack.size, entry);
#if GREEN_ASAN
  state.stack_bottom = stack.base;
  state.stack_size = stack.size;
#endif
#if GREEN_TSAN
  // A task's first frames never return (it ends by switching away for good), so the
  // fiber's shadow stack in TSan (its call stack for reports, a fixed-size array) keeps
  // an entry or two of every task that ran on it. Reused task after task, a fiber's
  // shadow stack overran into the rest of TSan's state for it and TSan crashed (a
  // million spawns on one worker, nearly all on the same pooled stack). So a fiber is
  // replaced after kTsanTasksPerFiber tasks: ~6 us a task, amortized, under TSan only.
  constexpr std::uint32_t kTsanTasksPerFiber = 1024;
  if (stack.tsan_fiber && ++stack.tsan_tasks >= kTsanTasksPerFiber) release_stack_fiber(stack);
  if (!stack.tsan_fiber) {
    stack.tsan_fiber = __tsan_create_fiber(0);
    stack.tsan_tasks = 0;
  }
  state.tsan_fiber = stack.tsan_fiber;
#endif
}

// Forgets a finished or abandoned context; `state` must not be running. What the
// sanitizers hold for it stays with its stack.
inline void retire_context(ContextState& state) noexcept { state = ContextState{}; }

// A finished fiber left ASan's redzones of its last frames on its stack; clear them
// before the stack is reused by another fiber.
inline void retire_stack(const Stack& stack) noexcept {
#if GREEN_ASAN
  __asan_unpoison_memory_region(stack.base, stack.size);
#else
  (void)stack;
#endif
}

// The calling thread's exception state. The C++ runtime finds it through TLS on every
// throw and catch; a worker looks it up once and keeps the pointer for its switches.
inline ExceptionState* thread_exception_state() noexcept {
  return reinterpret_cast<ExceptionState*>(abi::__cxa_get_globals());
}

// The exception state is two words with padding (16 bytes on LP64, as is the C++
// runtime's own __cxa_eh_globals that thread_exception_state() points to): copied whole,
// it is one 16-byte load and store instead of two of each.
inline void copy_exception_state(ExceptionState& to, const ExceptionState& from) noexcept {
  static_assert(sizeof(ExceptionState) == 2 * sizeof(void*));
  __builtin_memcpy(&to, &from, sizeof(ExceptionState));
}

// Binds a thread's own stack to `state` (a worker's scheduling context).
inline void adopt_thread_context(ContextState& state) noexcept {
#if GREEN_TSAN
  state.tsan_fiber = __tsan_get_current_fiber();
#endif
  (void)state;
}

// What a switch hands to the context that lands: lives on the suspending stack, which
// stays valid until the lander has read it.
struct Hop {
  ContextState* from;
  void* carry;
};

// Called first thing in whatever context lands after a switch; returns the carry.
inline void* land(fctx::transfer_t t, ContextState* self) noexcept {
  auto* hop = static_cast<Hop*>(t.data);
  ContextState* from = hop->from;
#if GREEN_ASAN
  const void* from_bottom = nullptr;
  std::size_t from_size = 0;
  __sanitizer_finish_switch_fiber(self ? self->asan_fake_stack : nullptr, &from_bottom, &from_size);
  if (from && !from->stack_bottom) {  // a thread stack, seen for the first time
    from->stack_bottom = from_bottom;
    from->stack_size = from_size;
  }
#else
  (void)self;
#endif
  if (from) from->fctx = t.fctx;
  return hop->carry;
}

// Suspends the running context into `from` (nullptr: it has finished and is never
// resumed) and resumes `to`, handing it `carry`. Returns, with the carry of whoever
// switched back, when something resumes `from`. `thread_eh` is the calling thread's
// exception state (thread_exception_state()): `to` resumes on this thread, so the swap
// is done here, before the jump, and the lander has nothing to do. (Go needs no such
// swap: panics live in the goroutine's own g, not in thread-local storage.)
// `as_return`: the jump leaves by `ret` rather than an indirect jump, for a switch
// between contexts suspended at the same call site (context_jump.cpp; x86-64 only).
inline void* switch_context(ContextState* from, ContextState& to, void* carry, ExceptionState& thread_eh,
                            bool as_return = false) noexcept {
  if (from) copy_exception_state(from->eh, thread_eh);
  copy_exception_state(thread_eh, to.eh);
#if GREEN_ASAN
  __sanitizer_start_switch_fiber(from ? &from->asan_fake_stack : nullptr, to.stack_bottom, to.stack_size);
#endif
#if GREEN_TSAN
  __tsan_switch_to_fiber(to.tsan_fiber, 0);
#endif
  Hop hop{from, carry};
#if GREEN_OWN_JUMP
  fctx::transfer_t t = green_jump_context(to.fctx, &hop, as_return);
#else
  (void)as_return;
  fctx::transfer_t t = fctx::jump_fcontext(to.fctx, &hop);
#endif
  return land(t, from);
}

}  // namespace green::detail
