// stack_overflow.cpp: the SIGSEGV handler that names a task whose stack overflowed into
// its guard page (see stack_overflow.h).
#include "stack_overflow.h"

#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "worker.h"

namespace green::detail {
namespace {

constexpr std::size_t kSignalStackBytes = 64 * 1024;
thread_local void* signal_stack = nullptr;

void overflow_handler(int sig, siginfo_t* info, void*) {
  const Task* t = running_task_for_signal();
  auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  if (t && t->stack) {
    auto base = reinterpret_cast<std::uintptr_t>(t->stack.base);
    auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    if (addr >= base - page && addr < base + page) {
      char msg[160];
      int n = std::snprintf(msg, sizeof msg,
                            "green: stack overflow in task #%llu (stack of %zu bytes); "
                            "raise green::Config::stack_size\n",
                            static_cast<unsigned long long>(t->id), t->stack.size);
      if (n > 0) (void)!::write(STDERR_FILENO, msg, static_cast<std::size_t>(n));
    }
  }
  // Not ours, or reported: fault again with the default action, which ends the process.
  ::signal(sig, SIG_DFL);
}

}  // namespace

void install_overflow_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = overflow_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSEGV, &sa, nullptr);
  });
}

void prepare_signal_stack() {
  if (signal_stack) return;
  signal_stack = std::malloc(kSignalStackBytes);
  stack_t ss{};
  ss.ss_sp = signal_stack;
  ss.ss_size = kSignalStackBytes;
  ::sigaltstack(&ss, nullptr);
}

void release_signal_stack() noexcept {
  if (!signal_stack) return;
  stack_t ss{};
  ss.ss_flags = SS_DISABLE;
  ::sigaltstack(&ss, nullptr);
  std::free(signal_stack);
  signal_stack = nullptr;
}

}  // namespace green::detail
