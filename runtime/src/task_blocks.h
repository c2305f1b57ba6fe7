// task_blocks.h: memory for task control blocks.
//
// Blocks of kTaskBlockSize bytes are carved from slabs (one page-aligned mapping of
// kBlocksPerSlab blocks each) that the arena keeps a list of, so that at shutdown every
// block still live (a task abandoned when the root returned) can be found and destroyed.
// Each worker keeps a small private cache, so spawn and exit take no lock; a block freed
// on another worker joins that worker's cache.
//
// Bounded caches: a task spawned on one worker and finished on another moves a block
// from one cache to the other. Left alone, the finishing worker's cache would grow
// without bound while the spawner kept carving slabs (131 MiB after 3M spawns with ~200
// tasks alive). So, like the stack caches, a worker's cache holds at most two batches of
// kBatch blocks (a magazine being used and one full spare, after Bonwick's magazine
// allocator); a third full batch goes back to the arena, where any worker, or a plain
// thread spawning, takes it before a new slab is carved. Go's allocator does the same
// for its per-P caches (mcache -> mcentral). Blocks carved therefore stay near the most
// ever alive at once plus two batches per worker, rounded up to whole slabs.
//
// Trimming, off the hot path (as the stack pool's, and on its trimmer thread): after a
// burst the arena's free batches hold the burst's blocks. Spawning and finishing never
// call madvise; the arena's batches form a LIFO whose low-water mark (one compare per
// batch taken) tells which sat untaken since the previous pass. While the arena holds
// more than `keep` free blocks (Config::pool_keep_stacks, as many as the pool keeps
// stacks) the stack pool's trimmer calls trim_unused() once per interval: it takes the
// untaken batches beyond `keep` out of the arena, counts their blocks per slab, and a
// slab whose every block is among them goes back to the OS whole (MADV_DONTNEED, outside
// the lock); the other blocks return, relinked into batches, to the bottom of the LIFO.
// A decommitted (cold) slab stays MAPPED (its headers read as zero: free) and is reused,
// relinked, before a new one is mapped. So a burst's blocks go back between one and two
// intervals after the last of a slab's blocks was freed, a pass reads each free block
// it took once, and while it holds them a spawn that finds no free batch takes a cold
// slab or maps one. A slab pinned by one live block (or one in a worker's cache) stays.
//
// Invariant: a block's header says `live` exactly between task_alloc and task_free; a
// free block is in exactly one place (one worker's cache, one of the arena's batches, its
// loose list, the hands of one trim pass, or a cold slab, all of whose blocks are free);
// slabs stay mapped until the arena is destroyed, after every worker and the trimmer have
// stopped and no plain thread is inside the run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "green/detail/task.h"

namespace green::detail {

class TaskArena {
 public:
  // Blocks moved between a worker's cache and the arena at once: large enough that the
  // lock is taken once per 64 spawns or exits at most, small enough to bound the caches.
  static constexpr std::size_t kBatch = 64;

  // Blocks in one slab (its mapping is rounded up to whole pages: 36 pages of 4 KiB for
  // blocks of 144 bytes).
  static constexpr std::size_t kBlocksPerSlab = 1024;

  // `keep`: free blocks always kept committed. `trim_due` arms the trimmer (which then
  // calls trim_unused() once per interval); it is called under the arena's lock, rarely:
  // when the free batches exceed `keep` and no pass is due. Empty: no trimmer thread
  // (trim_unused() then runs only when called).
  TaskArena(std::size_t keep, std::function<void()> trim_due);
  ~TaskArena();
  TaskArena(const TaskArena&) = delete;
  TaskArena& operator=(const TaskArena&) = delete;

  struct Block;  // header + kTaskBlockSize bytes for the Task

  // Exactly kBatch free blocks linked through next_free (carving a slab if none is free).
  Block* take_batch();
  // Takes back a batch of exactly kBatch free blocks.
  void give_batch(Block* batch) noexcept;
  // One block at a time, for threads outside the runtime.
  void* take_shared();
  void give_shared(Block* b) noexcept;

  // At shutdown, with every worker stopped: destroys every live task; returns how many.
  std::uint64_t destroy_live() noexcept;
  std::uint64_t carved() const;       // blocks in slabs ever mapped
  std::uint64_t decommitted() const;  // blocks whose memory went back to the OS, summed over passes

  // One trim pass (see above; the trimmer's, and tests call it directly). Does nothing
  // unless armed; returns whether it stays armed (more may be trimmed by a later pass).
  bool trim_unused() noexcept;

  static Block* block_of(Task* t) noexcept;
  static void* payload(Block* b) noexcept;
  static void mark(Block* b, bool live) noexcept;

 private:
  Block* take_batch_locked();
  void push_batch_locked(Block* batch) noexcept;

  const std::size_t keep_batches_;        // free batches always kept committed
  const std::function<void()> trim_due_;  // arms the trimmer; empty: there is none
  mutable std::mutex mu_;
  std::vector<Block*> slabs_;       // every slab mapped, hot or cold; guarded by mu_
  std::vector<Block*> cold_slabs_;  // decommitted, every block free; guarded by mu_
  std::vector<Block*> batches_;     // full batches of free blocks, a LIFO; guarded by mu_
  Block* loose_ = nullptr;          // free blocks of plain threads; guarded by mu_
  std::size_t loose_count_ = 0;     // guarded by mu_
  // Fewest batches since the last trim pass: batches_[0, low_water_) went untaken.
  std::size_t low_water_ = 0;      // guarded by mu_
  bool trim_armed_ = false;        // guarded by mu_
  std::uint64_t decommitted_ = 0;  // guarded by mu_

  std::mutex trim_mu_;  // one trim pass at a time; guards the pass's vectors below
  std::vector<Block*> trim_batches_, trim_slabs_, trim_kept_;
  std::vector<std::uint32_t> trim_counts_;
};

struct TaskArena::Block {
  Block* next_free;    // valid while free
  std::uint64_t live;  // 1 between task_alloc and task_free
  alignas(std::max_align_t) unsigned char bytes[kTaskBlockSize];
};

// A worker's private cache: at most two batches (see above).
class TaskBlockCache {
 public:
  explicit TaskBlockCache(TaskArena& arena) : arena_(arena) {}
  void* take() {
    if (!free_) {
      free_ = spare_ ? std::exchange(spare_, nullptr) : arena_.take_batch();
      count_ = TaskArena::kBatch;
    }
    TaskArena::Block* b = free_;
    free_ = b->next_free;
    --count_;
    TaskArena::mark(b, true);
    return TaskArena::payload(b);
  }
  void give(TaskArena::Block* b) noexcept {
    TaskArena::mark(b, false);
    if (count_ == TaskArena::kBatch) {  // the magazine is full: it becomes the spare
      if (spare_) arena_.give_batch(spare_);
      spare_ = std::exchange(free_, nullptr);
      count_ = 0;
    }
    b->next_free = free_;
    free_ = b;
    ++count_;
  }

 private:
  TaskArena& arena_;
  TaskArena::Block* free_ = nullptr;   // the magazine in use: count_ blocks
  TaskArena::Block* spare_ = nullptr;  // nullptr or exactly kBatch blocks
  std::size_t count_ = 0;
};

}  // namespace green::detail
