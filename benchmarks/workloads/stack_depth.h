// stack_depth.h: a task that blocks deep in its calls. at_stack_depth(bytes, f) calls f
// at the bottom of a chain of frames that together hold at least `bytes` of stack, every
// frame's buffer written once a cache line (so each of its pages is touched, committed,
// resident) before the call and read back after it (so the compiler keeps the frames and
// the recursion is no tail call). Small stacks flatter a memory figure: this is what a
// handler parked under a few calls with buffers costs.
//
// Invariant: while f runs, every page of the `bytes` below the caller's frame has been
// written by this task; the returned sum depends on every frame, so none is optimised out.
#pragma once

#include <cstddef>
#include <cstdint>

namespace greenbench {

inline constexpr std::size_t kStackFrameBytes = 1024;

template <class F>
[[gnu::noinline]] std::uint64_t at_stack_depth(std::size_t bytes, F& f) {
  if (bytes < kStackFrameBytes) {
    f();
    return 0;
  }
  volatile unsigned char frame[kStackFrameBytes];
  for (std::size_t i = 0; i < kStackFrameBytes; i += 64) frame[i] = static_cast<unsigned char>(i ^ bytes);
  std::uint64_t sum = at_stack_depth(bytes - kStackFrameBytes, f);
  for (std::size_t i = 0; i < kStackFrameBytes; i += 64) sum += frame[i];
  return sum;
}

}  // namespace greenbench
