// stack_pool.cpp: slabs, guard pages, pooling and the overflow handler (design and
// invariant in stack_pool.h).
#include "stack_pool.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>

#include "worker.h"

namespace green::detail {
namespace {

// MADV_GUARD_INSTALL (Linux 6.13+): guard pages without new mappings. Older headers
// lack the constant; the kernel answers EINVAL where it lacks the feature.
constexpr int kMadvGuardInstall = 102;

// Slabs of about this size: large enough that slab mappings stay few (a million 128 KiB
// stacks take ~16k slabs), small enough that a small run reserves little address space.
constexpr std::size_t kSlabBytes = 8u << 20;

std::size_t read_max_map_count() {
  std::ifstream f("/proc/sys/vm/max_map_count");
  std::size_t n = 65530;
  f >> n;
  return n;
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

}  // namespace

StackPool::StackPool(std::size_t stack_size, bool guard, std::size_t keep)
    : page_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))),
      stack_size_(round_up(std::max<std::size_t>(stack_size, 4 * page_), page_)),
      slot_size_(stack_size_ + (guard ? page_ : 0)),
      slots_per_slab_(std::max<std::size_t>(1, kSlabBytes / slot_size_)),
      keep_(keep),
      guard_(guard ? Guard::madvise : Guard::off),
      // mprotect splits a mapping in two per guard; stay under half the limit, leaving
      // room for the rest of the process (threads, malloc arenas, libraries).
      mprotect_budget_(guard ? read_max_map_count() / 2 : 0) {
  stats_.guard_mode = guard ? "madvise" : "off";
}

StackPool::~StackPool() {
  for (unsigned id : valgrind_stack_ids_) VALGRIND_STACK_DEREGISTER(id);
  for (Stack& s : hot_) release_stack_fiber(s);
  for (auto& [base, bytes] : slabs_) ::munmap(base, bytes);
}

Stack StackPool::carve_locked() {
  if (cursor_left_ == 0) {
    std::size_t bytes = slots_per_slab_ * slot_size_;
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    slabs_.emplace_back(static_cast<char*>(p), bytes);
    cursor_ = static_cast<char*>(p);
    cursor_left_ = slots_per_slab_;
  }
  char* slot = cursor_;
  cursor_ += slot_size_;
  --cursor_left_;
  ++stats_.mapped;

  if (guard_ == Guard::madvise && ::madvise(slot, page_, kMadvGuardInstall) != 0) {
    guard_ = Guard::mprotect;  // kernel older than 6.13
    stats_.guard_mode = "mprotect";
  }
  if (guard_ == Guard::mprotect) {
    if (mprotect_budget_ >= 2 && ::mprotect(slot, page_, PROT_NONE) == 0) {
      mprotect_budget_ -= 2;
    } else {
      if (stats_.unguarded++ == 0) {
        std::fprintf(stderr,
                     "green: vm.max_map_count reached; further fiber stacks have no guard page "
                     "(kernel lacks MADV_GUARD_INSTALL)\n");
      }
    }
  }
  Stack stack{slot + (guard_ == Guard::off ? 0 : page_), stack_size_};
  if (RUNNING_ON_VALGRIND) {
    char* base = static_cast<char*>(stack.base);
    valgrind_stack_ids_.push_back(VALGRIND_STACK_REGISTER(base, base + stack.size));
  }
  return stack;
}

Stack StackPool::take_locked() {
  Stack s;
  if (!hot_.empty()) {
    s = hot_.back();
    hot_.pop_back();
  } else if (!cold_.empty()) {
    s = cold_.back();
    cold_.pop_back();
  } else {
    s = carve_locked();
  }
  stats_.peak_in_use = std::max(stats_.peak_in_use, ++stats_.in_use);
  return s;
}

void StackPool::give_locked(Stack s) noexcept {
  --stats_.in_use;
  hot_.push_back(s);
  if (hot_.size() >= keep_ + kTrimBatch) trim_locked();
}

void StackPool::trim_locked() noexcept {
  // The pool holds more than it needs: return the pages of the least recently used
  // stacks, keep their address ranges. One madvise per run of adjacent stacks, not per
  // stack: in a multi-threaded process each call costs TLB-shootdown interrupts on the
  // other CPUs. Guard markers (MADV_GUARD_INSTALL) survive MADV_DONTNEED, so a run may
  // span the guard pages between its stacks; mprotect guards are separate mappings, so
  // in that mode each stack goes alone.
  std::size_t excess = hot_.size() - keep_;
  auto first = hot_.begin(), last = hot_.begin() + static_cast<std::ptrdiff_t>(excess);
  std::sort(first, last, [](const Stack& a, const Stack& b) { return a.base < b.base; });
  for (auto run = first; run != last;) {
    auto end = std::next(run);
    while (guard_ != Guard::mprotect && end != last &&
           static_cast<char*>(end->base) == static_cast<char*>(std::prev(end)->base) + slot_size_) {
      ++end;
    }
    char* from = static_cast<char*>(run->base);
    char* to = static_cast<char*>(std::prev(end)->base) + stack_size_;
    ::madvise(from, static_cast<std::size_t>(to - from), MADV_DONTNEED);
    run = end;
  }
  stats_.decommitted += excess;
  for (auto it = first; it != last; ++it) release_stack_fiber(*it);
  cold_.insert(cold_.end(), first, last);
  hot_.erase(first, last);
}

Stack StackPool::allocate() {
  std::lock_guard lk(mu_);
  return take_locked();
}

void StackPool::deallocate(Stack stack) noexcept {
  std::lock_guard lk(mu_);
  give_locked(stack);
}

void StackPool::allocate_batch(std::vector<Stack>& out, std::size_t count) {
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < count; ++i) out.push_back(take_locked());
}

void StackPool::deallocate_batch(std::vector<Stack>& stacks, std::size_t count) noexcept {
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < count && !stacks.empty(); ++i) {
    give_locked(stacks.back());
    stacks.pop_back();
  }
}

StackStats StackPool::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

// ---- stack overflow -------------------------------------------------------------------

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
