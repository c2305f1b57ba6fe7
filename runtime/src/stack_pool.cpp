// stack_pool.cpp: slabs, guard pages and pooling (design and invariant in stack_pool.h).
#include "stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>
#if GREEN_HAVE_VALGRIND
#include <valgrind/valgrind.h>
#else  // built without valgrind's header: never under valgrind, as far as we can tell
#define RUNNING_ON_VALGRIND 0
#define VALGRIND_STACK_REGISTER(start, end) 0u
#define VALGRIND_STACK_DEREGISTER(id) static_cast<void>(id)
#endif

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <new>

#include "context.h"
#include "test_hooks.h"

namespace green::detail {
namespace {

// MADV_GUARD_INSTALL (Linux 6.13+): guard pages without new mappings. Older headers
// lack the constant; the kernel answers EINVAL where it lacks the feature.
constexpr int kMadvGuardInstall = 102;

// Slabs of about this size: large enough that slab mappings stay few (a million stacks of
// the default 64 KiB take ~8.3k slabs), small enough that a small run reserves little
// address space.
constexpr std::size_t kSlabBytes = 8u << 20;

std::size_t read_max_map_count() {
  std::ifstream f("/proc/sys/vm/max_map_count");
  std::size_t n = 65530;
  f >> n;
  return n;
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

}  // namespace

StackPool::StackPool(std::size_t stack_size, bool guard, std::size_t keep,
                     std::chrono::nanoseconds trim_interval)
    : page_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))),
      stack_size_(round_up(std::max<std::size_t>(stack_size, 4 * page_), page_)),
      slot_size_(stack_size_ + (guard ? page_ : 0)),
      slots_per_slab_(std::max<std::size_t>(1, kSlabBytes / slot_size_)),
      keep_(keep),
      trim_interval_(trim_interval),
      guard_(guard ? Guard::madvise : Guard::off),
      // mprotect splits a mapping in two per guard; stay under half the limit, leaving
      // room for the rest of the process (threads, malloc arenas, libraries).
      mprotect_budget_(guard ? read_max_map_count() / 2 : 0) {
  stats_.guard_mode = guard ? "madvise" : "off";
  if (trim_interval_ > std::chrono::nanoseconds::zero()) trimmer_ = std::thread([this] { trimmer_main(); });
}

StackPool::~StackPool() {
  stop_trimmer();
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
    low_water_ = std::min(low_water_, hot_.size());
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
  if (!trim_armed_ && hot_.size() > keep_ && trimmer_.joinable()) {
    // Arm the trimmer: its first pass looks at what goes untaken from now on. Rare: the
    // trimmer disarms only once the pool is back to keep_ hot stacks.
    trim_armed_ = true;
    low_water_ = hot_.size();
    trim_cv_.notify_one();
  }
}

void StackPool::stop_trimmer() noexcept {
  if (!trimmer_.joinable()) return;
  {
    std::lock_guard lk(mu_);
    trim_stop_ = true;
  }
  trim_cv_.notify_one();
  trimmer_.join();
}

void StackPool::set_trim_companion(std::function<bool()> pass) {
  std::lock_guard lk(mu_);
  companion_ = std::move(pass);
}

void StackPool::arm_trimmer() noexcept {
  std::lock_guard lk(mu_);
  companion_armed_ = true;
  if (!trim_armed_) {
    trim_armed_ = true;
    trim_cv_.notify_one();
  }
}

void StackPool::trimmer_main() {
  std::unique_lock lk(mu_);
  while (!trim_stop_) {
    if (!trim_armed_ && !parked_pass_) {
      trim_cv_.wait(lk);
      continue;
    }
    if (trim_cv_.wait_for(lk, trim_interval_, [this] { return trim_stop_; })) break;
    companion_armed_ = false;
    lk.unlock();
    trim_unused();
    const bool companion_more = companion_ && companion_();
    {
      std::lock_guard pass(trim_mu_);
      if (parked_pass_) parked_pass_();
    }
    GREEN_TEST_HOOK(stack_trim_pass);
    lk.lock();
    ++stats_.trim_passes;
    // Sleep until a give crosses keep_ again, or the companion arms it.
    if (hot_.size() <= keep_ && !companion_more && !companion_armed_) trim_armed_ = false;
  }
}

void StackPool::set_parked_pass(std::function<void()> pass) {
  std::lock_guard wait_out(trim_mu_);
  std::lock_guard lk(mu_);
  parked_pass_ = std::move(pass);
  trim_cv_.notify_one();  // a disarmed trimmer starts its passes
}

std::size_t StackPool::trim_unused() noexcept {
  std::lock_guard pass(trim_mu_);
  trim_batch_.clear();
  {
    std::lock_guard lk(mu_);
    const std::size_t unused = std::min(low_water_, hot_.size());
    const std::size_t n = unused > keep_ ? unused - keep_ : 0;
    try {
      // Room for the pass's stacks, here and in cold_, so that nothing can fail once
      // they have left the hot list. (Only a pass adds to cold_.)
      trim_batch_.reserve(n);
      cold_.reserve(cold_.size() + n);
    } catch (const std::bad_alloc&) {
      return 0;  // no memory for the bookkeeping: keep the stacks, try next pass
    }
    const auto first = hot_.begin(), last = hot_.begin() + static_cast<std::ptrdiff_t>(n);
    trim_batch_.assign(first, last);
    hot_.erase(first, last);
    stats_.trimming += n;
    low_water_ = hot_.size();
  }
  if (trim_batch_.empty()) return 0;
  decommit(trim_batch_);
  std::lock_guard lk(mu_);
  cold_.insert(cold_.end(), trim_batch_.begin(), trim_batch_.end());  // reserved: no throw
  stats_.trimming -= trim_batch_.size();
  stats_.decommitted += trim_batch_.size();
  return trim_batch_.size();
}

void StackPool::decommit(std::vector<Stack>& stacks) noexcept {
  // One madvise per run of adjacent stacks, not per stack: in a multi-threaded process
  // each call costs TLB-shootdown interrupts on the other CPUs. Guard markers
  // (MADV_GUARD_INSTALL) survive MADV_DONTNEED, so a run may span the guard pages
  // between its stacks; mprotect guards are separate mappings, so in that mode each
  // stack goes alone. guard_ is final once the first slab is carved, which happened
  // before any stack could be here.
  std::sort(stacks.begin(), stacks.end(), [](const Stack& a, const Stack& b) { return a.base < b.base; });
  const bool coalesce = guard_ != Guard::mprotect;
  for (auto run = stacks.begin(); run != stacks.end();) {
    auto end = std::next(run);
    while (coalesce && end != stacks.end() &&
           static_cast<char*>(end->base) == static_cast<char*>(std::prev(end)->base) + slot_size_) {
      ++end;
    }
    char* from = static_cast<char*>(run->base);
    char* to = static_cast<char*>(std::prev(end)->base) + stack_size_;
    ::madvise(from, static_cast<std::size_t>(to - from), MADV_DONTNEED);
    run = end;
  }
  for (Stack& s : stacks) release_stack_fiber(s);
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
  StackStats s = stats_;
  s.hot = hot_.size();
  s.cold = cold_.size();
  return s;
}

}  // namespace green::detail
