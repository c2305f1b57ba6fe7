// task_blocks.h: memory for task control blocks.
//
// Blocks of kTaskBlockSize bytes are carved from slabs that the arena keeps a list of,
// so that at shutdown every block still live (a task abandoned when the root returned)
// can be found and destroyed. Each worker keeps a small private cache, so spawn and exit
// take no lock; a block freed on another worker joins that worker's cache.
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
// The header's state word (ParkState below) says whether the block holds a task and, if
// so, whether that task is parked: the parked-stack trimmer (parked_stacks.h) reads it
// from its own thread, which is why it is atomic and why slabs stay mapped for the run.
//
// Invariant: a block's state is kFree exactly outside task_alloc..task_free; a free
// block is in exactly one place (one worker's cache, one of the arena's batches, or its
// loose list); the arena frees its slabs only after every worker has stopped and no
// plain thread is inside the run.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "green/detail/task.h"

namespace green::detail {

class TaskArena {
 public:
  // Blocks moved between a worker's cache and the arena at once: large enough that the
  // lock is taken once per 64 spawns or exits at most, small enough to bound the caches.
  static constexpr std::size_t kBatch = 64;

  TaskArena() = default;
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
  std::uint64_t carved() const;  // blocks ever carved

  static Block* block_of(Task* t) noexcept;
  static void* payload(Block* b) noexcept;
  static void mark(Block* b, bool live) noexcept;
  // Calls fn(block, arg) for every block carved so far, free or not, without the lock
  // (slabs stay until the arena goes): for the parked-stack trimmer's thread.
  void visit_blocks(void (*fn)(Block*, void*), void* arg) const;

 private:
  Block* take_batch_locked();

  mutable std::mutex mu_;
  std::vector<Block*> slabs_;    // guarded by mu_
  std::vector<Block*> batches_;  // full batches of free blocks; guarded by mu_
  Block* loose_ = nullptr;       // free blocks of plain threads; guarded by mu_
  std::size_t loose_count_ = 0;  // guarded by mu_
};

// A block's state. kFree is zero, so memory handed back to the OS (zero when it comes
// back) reads as free. The parked states are parked_stacks.h's.
enum ParkState : std::uint32_t {
  kFree = 0,       // no task: between task_free and task_alloc
  kRunnable,       // running, queued, or being made runnable (the task's own state)
  kParked,         // parked; set by its park's post action, before wakers can see it
  kParkedOld,      // parked, and seen so by one trimmer pass since it parked
  kParkedTrimmed,  // parked, and a pass has released the pages below its stack pointer
};
// A block's hold word: whether a trimmer pass holds its task (parked_stacks.h).
enum ParkHold : std::uint32_t {
  kNotHeld = 0,
  kHeld,      // a pass may be releasing the task's pages: a waker leaves the task to it
  kHandedOn,  // a waker came while held: the pass makes the task runnable
};

struct TaskArena::Block {
  Block* next_free;                  // valid while free
  std::atomic<std::uint32_t> state;  // a ParkState; see parked_stacks.h for who writes it
  std::atomic<std::uint32_t> hold;   // a ParkHold; likewise
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
