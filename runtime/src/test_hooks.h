// test_hooks.h: named points inside the runtime where a test can run code of its own
// (a delay, a check) to open a race window that real timing opens only rarely. This is
// how the runtime's tests reproduce a narrow race deterministically, never by sleeping
// and hoping.
//
// Invariant: hooks exist only in the library the tests link (green_runtime_hooked, built
// with GREEN_TEST_HOOKS); in green_runtime, the one benchmarks and users link, every
// point compiles to nothing. A test sets a hook before the run that needs it and clears
// it after (ScopedHook in runtime/tests/test_support.h).
#pragma once

#include <atomic>

namespace green::detail::test_hooks {

// One hook point: a function pointer a test may set. Add a point by declaring another
// `inline Point name;` below, with the line that says where it fires.
struct Point {
  std::atomic<void (*)()> fn{nullptr};
};

// net.cpp, InFlight: a call has loaded its Socket's PollDesc and not yet acquired it.
inline Point net_call_loaded_desc;
// worker.cpp, sleep_until_work: a worker with nothing to run, before it registers as
// idle (and decides whether it blocks in epoll_wait).
inline Point idle_before_enter;
// worker.cpp, find_work: a spinner that found nothing to steal, before it stops spinning
// (and goes idle).
inline Point spinner_giving_up;
// worker.cpp, sleep_until_work: a worker just registered as idle, before it re-checks
// the queues and sleeps.
inline Point idle_entered;
// worker.cpp, sleep_until_work: the blocker back from epoll_wait, before it leaves idle.
inline Point blocker_woke;
// stack_pool.cpp, trimmer_main: the trimmer thread has finished one trim pass (the
// pool's and the task arena's).
inline Point stack_trim_pass;
// parked_stacks.cpp, ParkedStackTrimmer::trim: a pass holds a parked task (ParkHold),
// before it releases the task's stack pages.
inline Point parked_stack_trimming;
// worker.cpp, finish_current: a finishing task found its joiner held by a trimmer pass
// (claim_parked handed the wake-up on), before it switches away and stores kDone.
inline Point joiner_handed_on;

#if defined(GREEN_TEST_HOOKS)
inline void fire(Point& p) noexcept {
  if (auto f = p.fn.load(std::memory_order_acquire)) f();
}
#else
inline void fire(Point&) noexcept {}
#endif

}  // namespace green::detail::test_hooks

#define GREEN_TEST_HOOK(name) ::green::detail::test_hooks::fire(::green::detail::test_hooks::name)
