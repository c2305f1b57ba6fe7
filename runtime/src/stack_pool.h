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
//     crashes loudly (stack_overflow.h). On Linux 6.13+ the guard is installed
//     with madvise(MADV_GUARD_INSTALL), which marks page-table entries and creates no new
//     mapping, so a million guarded stacks cost no mappings at all. On older kernels we
//     fall back to mprotect, which splits the slab: two mappings per stack. We guard with
//     mprotect only while the process stays under half of vm.max_map_count; past that,
//     stacks go unguarded and RunReport::unguarded_stacks counts them (reported, never
//     silent).
//   * Pooling: freed stacks are kept committed (hot) for reuse, LIFO so the most recently
//     touched memory is reused first, and the least recently used sit at the bottom.
//   * Trimming, off the hot path (after Go's background scavenger): spawning and
//     finishing never call madvise. A trimmer thread, armed only while the pool holds
//     more than `keep` hot stacks, makes one pass per `trim_interval`: the stacks at the
//     bottom of the hot list that no one took since the previous pass (the list's
//     low-water mark, one compare per take) go back to the OS (MADV_DONTNEED, one call
//     per run of adjacent stacks); the pool keeps their address ranges (cold). So the
//     stacks recent peaks needed stay committed while they keep being used, and a
//     burst's memory goes back between one and two intervals after its last use; `keep`
//     hot stacks always stay. The madvise runs outside the pool's lock. After each of
//     its passes the trimmer makes one of its companion's (the task arena's), which can
//     arm it too; it sleeps only when neither has anything left to trim.
//   * Each worker keeps a small private cache in front of the shared pool, so the common
//     spawn/exit path takes no lock.
//   * Under TSan a hot stack keeps the TSan fiber its last task ran on (context.h), so
//     reuse costs nothing; a decommitted (cold) stack drops it.
//   * Under valgrind (RUNNING_ON_VALGRIND, checked once per carved slot, never on a
//     switch) every slot is registered as a stack when carved and deregistered when the
//     pool goes, so memcheck and callgrind follow the switches between fiber stacks.
//
// Invariant: a stack is in exactly one place: in use by one task, in one worker's cache,
// in the pool's hot or cold list, or in the hands of one trim pass between the two
// (StackStats: mapped == hot + cold + trimming + in_use, where in_use counts the caches).
// Slabs are unmapped only when the pool is destroyed, after every worker and the
// trimmer have stopped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "green/detail/task.h"

namespace green::detail {

struct StackStats {
  std::uint64_t mapped = 0;  // stack slots carved so far
  std::uint64_t in_use = 0;
  std::uint64_t peak_in_use = 0;
  std::uint64_t hot = 0;          // free, committed
  std::uint64_t cold = 0;         // free, memory returned to the OS
  std::uint64_t trimming = 0;     // between hot and cold, in a trim pass
  std::uint64_t decommitted = 0;  // stacks ever moved from hot to cold
  std::uint64_t trim_passes = 0;  // the trimmer thread's
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
  // `trim_interval` zero: no trimmer thread; only trim_unused() returns memory.
  StackPool(std::size_t stack_size, bool guard, std::size_t keep, std::chrono::nanoseconds trim_interval);
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

  // Another store of free memory that the trimmer trims after each of its own passes
  // (the task arena, task_blocks.h): `pass` makes one pass and returns whether the store
  // wants more passes. Set before any task runs, and only with a trimmer.
  void set_trim_companion(std::function<bool()> pass);
  // The companion has memory to trim: passes are due even while the pool has none.
  void arm_trimmer() noexcept;
  // Stops and joins the trimmer (idempotent); before the companion goes away.
  void stop_trimmer() noexcept;

  // One trim pass (see above; the trimmer's, and tests call it directly): returns to the
  // OS the hot stacks, least recently used first, that no one took since the previous
  // pass, keeping `keep` hot; returns how many went back.
  std::size_t trim_unused() noexcept;

 private:
  enum class Guard { off, madvise, mprotect };
  Stack carve_locked();  // a fresh slot from the current slab, guarded
  Stack take_locked();   // hot, then cold, then fresh
  void give_locked(Stack stack) noexcept;
  void decommit(std::vector<Stack>& stacks) noexcept;  // no lock held
  void trimmer_main();

  const std::size_t page_;
  const std::size_t stack_size_;  // usable bytes, a multiple of page_
  const std::size_t slot_size_;   // stack plus guard page
  const std::size_t slots_per_slab_;
  const std::size_t keep_;  // hot stacks always kept committed
  const std::chrono::nanoseconds trim_interval_;
  Guard guard_;
  std::size_t mprotect_budget_;  // guards we may still install with mprotect

  mutable std::mutex mu_;
  std::vector<std::pair<char*, std::size_t>> slabs_;  // guarded by mu_
  char* cursor_ = nullptr;                            // next free slot in the newest slab; guarded by mu_
  std::size_t cursor_left_ = 0;                       // guarded by mu_
  std::vector<Stack> hot_;                            // guarded by mu_
  std::vector<Stack> cold_;                           // guarded by mu_
  std::vector<unsigned> valgrind_stack_ids_;          // under valgrind only; guarded by mu_
  StackStats stats_;                                  // guarded by mu_ (in_use counts stacks out of the pool)
  // Fewest hot stacks since the last trim pass: hot_[0, low_water_) went untaken.
  std::size_t low_water_ = 0;  // guarded by mu_

  std::mutex trim_mu_;               // one trim pass at a time
  std::vector<Stack> trim_batch_;    // the pass's stacks; guarded by trim_mu_
  std::condition_variable trim_cv_;  // with mu_: arms or stops the trimmer
  bool trim_armed_ = false;          // more than keep_ hot: passes are due; guarded by mu_
  bool companion_armed_ = false;     // arm_trimmer() since the pass began; guarded by mu_
  std::function<bool()> companion_;  // set under mu_ before any task runs; then read-only
  bool trim_stop_ = false;           // guarded by mu_
  std::thread trimmer_;              // none when trim_interval_ is zero
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

}  // namespace green::detail
