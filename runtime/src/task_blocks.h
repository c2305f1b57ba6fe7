// task_blocks.h: memory for task control blocks.
//
// Blocks of kTaskBlockSize bytes are carved from slabs that the arena keeps a list of,
// so that at shutdown every block still live (a task abandoned when the root returned)
// can be found and destroyed. Each worker keeps a private free list, so spawn and exit
// take no lock; a block freed on another worker joins that worker's list.
//
// Invariant: a block's header says `live` exactly between task_alloc and task_free; the
// arena frees its slabs only after every worker has stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "green/detail/task.h"

namespace green::detail {

class TaskArena {
 public:
  TaskArena() = default;
  ~TaskArena();
  TaskArena(const TaskArena&) = delete;
  TaskArena& operator=(const TaskArena&) = delete;

  struct Block;  // header + kTaskBlockSize bytes for the Task

  // A fresh slab's worth of blocks, linked into `list`, for a worker's free list.
  Block* carve(std::size_t& count);
  void* take_shared();                 // for threads outside the runtime (locks)
  void give_shared(Block* b) noexcept;

  // At shutdown, with every worker stopped: destroys every live task; returns how many.
  std::uint64_t destroy_live() noexcept;

  static Block* block_of(Task* t) noexcept;
  static void* payload(Block* b) noexcept;
  static void mark(Block* b, bool live) noexcept;

 private:
  std::mutex mu_;
  std::vector<Block*> slabs_;  // guarded by mu_
  Block* shared_free_ = nullptr;  // guarded by mu_
};

struct TaskArena::Block {
  Block* next_free;    // valid while free
  std::uint64_t live;  // 1 between task_alloc and task_free
  alignas(std::max_align_t) unsigned char bytes[kTaskBlockSize];
};

// A worker's private free list.
class TaskBlockCache {
 public:
  explicit TaskBlockCache(TaskArena& arena) : arena_(arena) {}
  void* take() {
    if (!free_) free_ = arena_.carve(count_);
    TaskArena::Block* b = free_;
    free_ = b->next_free;
    --count_;
    TaskArena::mark(b, true);
    return TaskArena::payload(b);
  }
  void give(TaskArena::Block* b) noexcept {
    TaskArena::mark(b, false);
    b->next_free = free_;
    free_ = b;
    ++count_;
  }

 private:
  TaskArena& arena_;
  TaskArena::Block* free_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace green::detail
