// test_support.h: what the runtime's tests share: a Config with N workers, whether
// this build runs under a sanitizer (which caps thread counts and slows every switch
// tenfold, so the largest tests run at a fraction of their size there), ScopedHook,
// which sets one of the runtime's test hooks (src/test_hooks.h) for one scope, HookGate,
// which holds a thread at a hook point, deadlines for waiting on a condition (never
// a fixed sleep before an assertion), and the process's resident memory.
#pragma once

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "green/green.h"
#include "test_hooks.h"

namespace green_test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

inline green::Config workers(unsigned n) {
  green::Config c;
  c.workers = n;
  return c;
}

// How long a test waits for something that should happen: far beyond any scheduling
// delay on a slow, loaded machine or under a sanitizer, so only a defect reaches it.
inline constexpr std::chrono::seconds kPatience{10};

// Looks at `done` until it holds or kPatience passes, doing `between` after each look
// that fails; returns whether it held.
template <class Pred, class Between>
bool wait_until(Pred done, Between between) {
  auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    between();
  }
  return true;
}

// On a plain thread (a hook, a foreign thread): sleeps the thread between looks.
template <class Pred>
bool wait_on_thread(Pred done) {
  return wait_until(done, [] { std::this_thread::sleep_for(std::chrono::microseconds(100)); });
}

// Inside a task, yielding between looks (a yielding task stays runnable, so another
// worker can steal it while this one is held in a hook).
template <class Pred>
bool wait_in_task(Pred done) {
  return wait_until(done, [] { green::this_task::yield(); });
}

// Inside a task that computes (keeps its worker busy): never switches between looks.
template <class Pred>
bool spin_until(Pred done) {
  return wait_until(done, [] {});
}

// A one-shot gate for a hook point (`[] { gate.pass(); }`): once armed, it holds the
// first thread that passes the point until the test opens it (or kPatience passes), so
// a race window stays open exactly as long as the test needs. arm_for/arm_except hold
// only the named thread, or any but it: a worker may pass a point for a reason the test
// did not plan (a stale wake-up), and must not take the place of the one it waits for.
class HookGate {
 public:
  void arm() { arm_matching({}, false); }
  void arm_for(std::thread::id t) { arm_matching(t, true); }
  void arm_except(std::thread::id t) { arm_matching(t, false); }
  bool holding() const { return state_ == kHeld; }
  void open() { state_ = kOpen; }
  void pass() {
    if (state_ != kArmed || (std::this_thread::get_id() == thread_) != match_) return;
    int armed = kArmed;
    if (state_.compare_exchange_strong(armed, kHeld)) wait_on_thread([this] { return state_ == kOpen; });
  }

 private:
  void arm_matching(std::thread::id t, bool match) {
    thread_ = t;
    match_ = match;
    state_ = kArmed;  // publishes thread_ and match_ to pass()
  }
  enum { kIdle, kArmed, kHeld, kOpen };
  std::atomic<int> state_{kIdle};
  std::thread::id thread_;  // with match_: which threads the armed gate holds
  bool match_ = false;
};

// From the root task of a two-worker run whose idle_before_enter hook passes `gate`:
// holds the other worker where it would go idle, so it can neither steal nor poll
// until the test opens the gate; returns whether it got there. An empty task wakes the
// other worker, which then goes idle through the hook; another at each look, because
// one that passed the hook just before the gate was armed, and registered as idle only
// once this worker had run the task, sleeps with nothing to wake it (no work is lost:
// there is none) and would never pass the hook again (seen under CPU contention).
inline bool hold_the_other_worker(HookGate& gate) {
  gate.arm();
  return wait_in_task([&] {
    if (gate.holding()) return true;
    green::go([] {});
    return false;
  });
}

// This process's resident memory in KiB, counted page by page (the Rss of
// /proc/self/smaps_rollup, which walks the page tables); -1 if unreadable. Not VmRSS:
// since Linux 6.2 its counters are per-CPU and batched, off by up to a few hundred KiB
// per CPU at any moment, which is the size of the changes the tests look for (a burst
// of 2,000 one-page stacks read as 1,100 KiB, and a check of it failed under load).
inline long rss_kib() {
  std::ifstream f("/proc/self/smaps_rollup");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("Rss:", 0) == 0) return std::stol(line.substr(4));
  }
  return -1;
}

// Sets hook point `p` to `fn` until the end of the scope. Set it before the run that
// needs it and let it go after: a hook fires on every worker that passes the point.
class ScopedHook {
 public:
  ScopedHook(green::detail::test_hooks::Point& p, void (*fn)()) : p_(p) { p_.fn.store(fn); }
  ~ScopedHook() { p_.fn.store(nullptr); }
  ScopedHook(const ScopedHook&) = delete;
  ScopedHook& operator=(const ScopedHook&) = delete;

 private:
  green::detail::test_hooks::Point& p_;
};

}  // namespace green_test
