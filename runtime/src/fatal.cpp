// fatal.cpp: the runtime's one fatal path (see fatal.h).
#include "fatal.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace green::detail {

void fatal(const char* format, ...) noexcept {
  std::va_list args;
  va_start(args, format);
  std::fputs("green: ", stderr);
  std::vfprintf(stderr, format, args);
  std::fputc('\n', stderr);
  va_end(args);
  std::abort();
}

}  // namespace green::detail
