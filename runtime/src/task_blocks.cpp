// task_blocks.cpp: the task arena's slabs (design and invariant in task_blocks.h).
#include "task_blocks.h"

#include <cstdlib>
#include <new>

#include "context.h"

namespace green::detail {
namespace {
constexpr std::size_t kBlocksPerSlab = 1024;
}

TaskArena::~TaskArena() {
  for (Block* slab : slabs_) std::free(slab);
}

TaskArena::Block* TaskArena::carve(std::size_t& count) {
  auto* slab = static_cast<Block*>(std::aligned_alloc(alignof(Block), sizeof(Block) * kBlocksPerSlab));
  if (!slab) throw std::bad_alloc();
  for (std::size_t i = 0; i < kBlocksPerSlab; ++i) {
    slab[i].live = 0;
    slab[i].next_free = i + 1 < kBlocksPerSlab ? &slab[i + 1] : nullptr;
  }
  {
    std::lock_guard lk(mu_);
    slabs_.push_back(slab);
  }
  count += kBlocksPerSlab;
  return slab;
}

void* TaskArena::take_shared() {
  std::lock_guard lk(mu_);
  if (!shared_free_) {
    mu_.unlock();
    std::size_t n = 0;
    Block* list = carve(n);
    mu_.lock();
    Block* last = list;
    while (last->next_free) last = last->next_free;
    last->next_free = shared_free_;
    shared_free_ = list;
  }
  Block* b = shared_free_;
  shared_free_ = b->next_free;
  mark(b, true);
  return payload(b);
}

void TaskArena::give_shared(Block* b) noexcept {
  std::lock_guard lk(mu_);
  mark(b, false);
  b->next_free = shared_free_;
  shared_free_ = b;
}

std::uint64_t TaskArena::destroy_live() noexcept {
  std::uint64_t n = 0;
  for (Block* slab : slabs_) {
    for (std::size_t i = 0; i < kBlocksPerSlab; ++i) {
      if (!slab[i].live) continue;
      auto* t = static_cast<Task*>(payload(&slab[i]));
      retire_context(t->ctx);
      t->~Task();
      slab[i].live = 0;
      ++n;
    }
  }
  return n;
}

TaskArena::Block* TaskArena::block_of(Task* t) noexcept {
  return reinterpret_cast<Block*>(reinterpret_cast<unsigned char*>(t) - offsetof(Block, bytes));
}
void* TaskArena::payload(Block* b) noexcept { return b->bytes; }
void TaskArena::mark(Block* b, bool live) noexcept { b->live = live ? 1 : 0; }

}  // namespace green::detail
