// context_test.cpp: the stack-switch seam (src/context.h) tested directly, below the
// scheduler: a switch carries its pointer both ways, lands where it left off, passes
// nullptr for a finished context, and keeps each side's C++ exception state its own.
#include "context.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdlib>
#include <exception>
#include <stdexcept>

namespace {

using namespace green::detail;

// What the thread and its one fiber share for one test.
struct Pair {
  ContextState thread_ctx, fiber_ctx;
  ExceptionState* thread_eh = nullptr;
  void* first_carry = nullptr;
  void* second_carry = nullptr;
  int frames_checked = 0;
  bool saw_thread_exception = true;
  bool kept_own_exception = false;
};
Pair* pair = nullptr;

void* to_thread(void* carry) {
  return switch_context(&pair->fiber_ctx, pair->thread_ctx, carry, *pair->thread_eh);
}

void fiber_body(fctx::transfer_t t) {
  pair->first_carry = land(t, &pair->fiber_ctx);
  // Locals survive a round trip: the stack is ours.
  volatile int local = 42;
  pair->second_carry = to_thread(reinterpret_cast<void*>(0x2));
  pair->frames_checked += local == 42;
  // The thread switched to us from inside a catch block: its exception is not ours.
  pair->saw_thread_exception = std::current_exception() != nullptr;
  try {
    throw std::runtime_error("the fiber's");
  } catch (...) {
    to_thread(reinterpret_cast<void*>(0x3));  // park inside our catch block
    try {
      std::rethrow_exception(std::current_exception());
    } catch (const std::runtime_error& e) {
      pair->kept_own_exception = std::string(e.what()) == "the fiber's";
    }
  }
  // Finished: the thread resumes, told that this context is gone.
  switch_context(nullptr, pair->thread_ctx, reinterpret_cast<void*>(0x4), *pair->thread_eh);
  std::abort();  // a finished context is never resumed
}

TEST(Context, SwitchesBothWaysCarryingAPointerAndKeepingEachSidesExceptionState) {
  constexpr std::size_t kBytes = 64 * 1024;
  void* mem = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  Stack stack{mem, kBytes};
  Pair p;
  pair = &p;
  p.thread_eh = thread_exception_state();
  adopt_thread_context(p.thread_ctx);
  make_context(p.fiber_ctx, stack, &fiber_body);

  EXPECT_EQ(switch_context(&p.thread_ctx, p.fiber_ctx, reinterpret_cast<void*>(0x1), *p.thread_eh),
            reinterpret_cast<void*>(0x2));
  EXPECT_EQ(p.first_carry, reinterpret_cast<void*>(0x1));
  EXPECT_NE(p.fiber_ctx.fctx, nullptr) << "the suspended fiber's handle was not stored";

  try {
    throw std::logic_error("the thread's");
  } catch (...) {
    EXPECT_EQ(switch_context(&p.thread_ctx, p.fiber_ctx, reinterpret_cast<void*>(0x5), *p.thread_eh),
              reinterpret_cast<void*>(0x3));
    // The fiber parked inside its own catch block; ours is still ours.
    try {
      std::rethrow_exception(std::current_exception());
    } catch (const std::logic_error& e) {
      EXPECT_STREQ(e.what(), "the thread's");
    }
  }
  EXPECT_EQ(std::current_exception(), nullptr) << "the fiber's exception leaked into the thread";
  EXPECT_EQ(p.second_carry, reinterpret_cast<void*>(0x5));
  EXPECT_EQ(p.frames_checked, 1);
  EXPECT_FALSE(p.saw_thread_exception);

  EXPECT_EQ(switch_context(&p.thread_ctx, p.fiber_ctx, nullptr, *p.thread_eh), reinterpret_cast<void*>(0x4));
  EXPECT_TRUE(p.kept_own_exception);

  retire_stack(stack);
  release_stack_fiber(stack);
  retire_context(p.fiber_ctx);
  EXPECT_EQ(p.fiber_ctx.fctx, nullptr);
  ::munmap(mem, kBytes);
}

}  // namespace
