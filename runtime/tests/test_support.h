// test_support.h: what the runtime's tests share: a Config with N workers, whether
// this build runs under a sanitizer (which caps thread counts and slows every switch
// tenfold, so the largest tests run at a fraction of their size there), and ScopedHook,
// which sets one of the runtime's test hooks (src/test_hooks.h) for one scope.
#pragma once

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
