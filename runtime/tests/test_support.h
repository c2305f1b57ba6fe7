// test_support.h: what the runtime's tests share: a Config with N workers, and whether
// this build runs under a sanitizer (which caps thread counts and slows every switch
// tenfold, so the largest tests run at a fraction of their size there).
#pragma once

#include "green/green.h"

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

}  // namespace green_test
