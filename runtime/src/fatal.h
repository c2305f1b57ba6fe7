// fatal.h: the runtime's one fatal path (marl's MARL_FATAL): print a message and end the
// process, for misuse of the API and for states the runtime cannot recover from.
//
// Invariant: every "print and abort" in the runtime goes through fatal(), so each such
// message starts with "green: " and ends the process the same way (std::abort, which a
// death test or a debugger sees).
#pragma once

namespace green::detail {

// Prints "green: ", the printf-formatted message and a newline to stderr, then aborts.
[[noreturn]] void fatal(const char* format, ...) noexcept __attribute__((format(printf, 1, 2)));

}  // namespace green::detail
