// stack_pool.h: where fiber stacks come from.
//
// Design (the why):
//   * Stacks are carved from large slabs (one mmap of many stacks), not one mapping each:
//     Linux caps a process at vm.max_map_count mappings (65,530 by default), and a million
//     fibers need a million stacks.
//   * Memory is reserved, not committed (MAP_NORESERVE): a stack costs physical memory
//     only for the pages its fiber touched. A parked fiber that used little stack costs
//     one page.
//   * Guard pages: below every stack lies one page that faults on access, so an overflow
//     crashes loudly (see install_overflow_handler). On Linux 6.13+ the guard is installed
//     with madvise(MADV_GUARD_INSTALL), which marks page-table entries and creates no new
//     mapping, so a million guarded stacks cost no mappings at all. On older kernels we
//     fall back to mprotect, which splits the slab: two mappings per stack. We guard with
//     mprotect only while the process stays under half of vm.max_map_count; past that,
//     stacks go unguarded and RunReport::unguarded_stacks counts them (reported, never
//     silent).
//   * Pooling: freed stacks are kept committed (hot) for reuse, LIFO so the most recently
//     touched memory is reused first. Once it holds `keep` + 256 hot stacks, the pool
//     hands the memory of the least recently used back to the OS (MADV_DONTNEED, one call
//     per run of adjacent stacks) and keeps only their address ranges (cold).
//   * Each worker keeps a small private cache in front of the shared pool, so the common
//     spawn/exit path takes no lock.
//   * Under TSan a hot stack keeps the TSan fiber its last task ran on (context.h), so
//     reuse costs nothing; a decommitted (cold) stack drops it.
//   * Under valgrind (RUNNING_ON_VALGRIND, checked once per carved slot, never on a
//     switch) every slot is registered as a stack when carved and deregistered when the
//     pool goes, so memcheck and callgrind follow the switches between fiber stacks.
//
// Invariant: a stack is in exactly one place: in use by one task, in one worker's cache,
// or in the pool's hot or cold list. Slabs are unmapped only when the pool is destroyed,
// after every worker has stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "green/detail/task.h"

namespace green::detail {

struct StackStats {
  std::uint64_t mapped = 0;        // stack slots carved so far
  std::uint64_t in_use = 0;
  std::uint64_t peak_in_use = 0;
  std::uint64_t decommitted = 0;
  std::uint64_t unguarded = 0;
  const char* guard_mode = "off";
};

// The seam for stack strategies (a compact, copy-on-park mode plugs in here).
class StackAllocator {
 public:
  virtual ~StackAllocator() = default;
  virtual Stack allocate() = 0;
  virtual void deallocate(Stack stack) noexcept = 0;
  virtual StackStats stats() const = 0;
};

// Fixed-size, lazily committed, guarded, pooled stacks carved from slabs.
class StackPool final : public StackAllocator {
 public:
  StackPool(std::size_t stack_size, bool guard, std::size_t keep);
  ~StackPool() override;
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  Stack allocate() override;
  void deallocate(Stack stack) noexcept override;
  StackStats stats() const override;

  // Batch forms for the worker caches: one lock for many stacks.
  void allocate_batch(std::vector<Stack>& out, std::size_t count);
  void deallocate_batch(std::vector<Stack>& stacks, std::size_t count) noexcept;

  std::size_t stack_size() const noexcept { return stack_size_; }

 private:
  enum class Guard { off, madvise, mprotect };
  Stack carve_locked();             // a fresh slot from the current slab, guarded
  Stack take_locked();              // hot, then cold, then fresh
  void give_locked(Stack stack) noexcept;
  void trim_locked() noexcept;      // decommits hot stacks beyond keep_
  // Stacks above keep_ before a trim: trims come in batches, coalesced by address.
  static constexpr std::size_t kTrimBatch = 256;

  const std::size_t page_;
  const std::size_t stack_size_;    // usable bytes, a multiple of page_
  const std::size_t slot_size_;     // stack plus guard page
  const std::size_t slots_per_slab_;
  const std::size_t keep_;          // hot stacks kept committed
  Guard guard_;
  std::size_t mprotect_budget_;     // guards we may still install with mprotect

  mutable std::mutex mu_;
  std::vector<std::pair<char*, std::size_t>> slabs_;  // guarded by mu_
  char* cursor_ = nullptr;          // next free slot in the newest slab; guarded by mu_
  std::size_t cursor_left_ = 0;     // guarded by mu_
  std::vector<Stack> hot_;          // guarded by mu_
  std::vector<Stack> cold_;         // guarded by mu_
  std::vector<unsigned> valgrind_stack_ids_;  // under valgrind only; guarded by mu_
  StackStats stats_;                // guarded by mu_ (in_use counts stacks out of the pool)
};

// A worker's private, lock-free front for the pool.
class StackCache {
 public:
  explicit StackCache(StackPool& pool) : pool_(pool) {}
  ~StackCache() { drain(); }
  Stack allocate() {
    if (stacks_.empty()) pool_.allocate_batch(stacks_, kBatch);
    Stack s = stacks_.back();
    stacks_.pop_back();
    return s;
  }
  void deallocate(Stack s) {
    stacks_.push_back(s);
    if (stacks_.size() >= 2 * kBatch) pool_.deallocate_batch(stacks_, kBatch);
  }
  void drain() noexcept { pool_.deallocate_batch(stacks_, stacks_.size()); }

 private:
  static constexpr std::size_t kBatch = 32;
  StackPool& pool_;
  std::vector<Stack> stacks_;
};

// Installs (once per process) a SIGSEGV handler that recognises a fault in a fiber's
// guard page and ends the process with a message naming the task and the stack size.
// Each worker thread calls prepare_signal_stack() so the handler can run while the
// faulting stack is unusable.
void install_overflow_handler();
void prepare_signal_stack();
void release_signal_stack() noexcept;

}  // namespace green::detail
