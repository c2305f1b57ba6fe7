// task_blocks.cpp: the task arena's slabs and batches (design and invariant in
// task_blocks.h).
#include "task_blocks.h"

#include <cstdlib>
#include <memory>
#include <new>

#include "context.h"

namespace green::detail {
namespace {
constexpr std::size_t kBlocksPerSlab = 1024;
static_assert(kBlocksPerSlab % TaskArena::kBatch == 0, "a slab splits into whole batches");
}  // namespace

TaskArena::~TaskArena() {
  for (Block* slab : slabs_) std::free(slab);
}

TaskArena::Block* TaskArena::take_batch_locked() {
  if (batches_.empty()) {
    auto* slab = static_cast<Block*>(std::aligned_alloc(alignof(Block), sizeof(Block) * kBlocksPerSlab));
    if (!slab) throw std::bad_alloc();
    try {
      // Room for every batch there can ever be, so that give_batch never allocates.
      slabs_.reserve(slabs_.size() + 1);
      batches_.reserve((slabs_.size() + 1) * (kBlocksPerSlab / kBatch));
    } catch (...) {
      std::free(slab);
      throw;
    }
    slabs_.push_back(slab);
    for (std::size_t i = 0; i < kBlocksPerSlab; ++i) {
      std::construct_at(&slab[i].state, kFree);
      std::construct_at(&slab[i].hold, kNotHeld);
      slab[i].next_free = (i + 1) % kBatch != 0 ? &slab[i + 1] : nullptr;
    }
    for (std::size_t i = kBlocksPerSlab; i > 0; i -= kBatch) batches_.push_back(&slab[i - kBatch]);
  }
  Block* batch = batches_.back();
  batches_.pop_back();
  return batch;
}

TaskArena::Block* TaskArena::take_batch() {
  std::lock_guard lk(mu_);
  return take_batch_locked();
}

void TaskArena::give_batch(Block* batch) noexcept {
  std::lock_guard lk(mu_);
  batches_.push_back(batch);  // never reallocates: see take_batch_locked
}

void* TaskArena::take_shared() {
  std::lock_guard lk(mu_);
  if (!loose_) {
    loose_ = take_batch_locked();
    loose_count_ = kBatch;
  }
  Block* b = loose_;
  loose_ = b->next_free;
  --loose_count_;
  mark(b, true);
  return payload(b);
}

void TaskArena::give_shared(Block* b) noexcept {
  std::lock_guard lk(mu_);
  mark(b, false);
  if (loose_count_ == kBatch) {  // a full batch: hand it to the workers
    batches_.push_back(loose_);
    loose_ = nullptr;
    loose_count_ = 0;
  }
  b->next_free = loose_;
  loose_ = b;
  ++loose_count_;
}

std::uint64_t TaskArena::carved() const {
  std::lock_guard lk(mu_);
  return slabs_.size() * kBlocksPerSlab;
}

std::uint64_t TaskArena::destroy_live() noexcept {
  std::uint64_t n = 0;
  for (Block* slab : slabs_) {
    for (std::size_t i = 0; i < kBlocksPerSlab; ++i) {
      if (slab[i].state.load(std::memory_order_relaxed) == kFree) continue;
      auto* t = static_cast<Task*>(payload(&slab[i]));
      retire_context(t->ctx);
      release_stack_fiber(t->stack);  // the stack itself goes with the pool's slabs
      t->~Task();
      slab[i].state.store(kFree, std::memory_order_relaxed);
      ++n;
    }
  }
  return n;
}

TaskArena::Block* TaskArena::block_of(Task* t) noexcept {
  return reinterpret_cast<Block*>(reinterpret_cast<unsigned char*>(t) - offsetof(Block, bytes));
}
void* TaskArena::payload(Block* b) noexcept { return b->bytes; }
// Relaxed: a block's first and last states are its owner's alone; the trimmer acts only
// on parked states, which are published with release (parked_stacks.h).
void TaskArena::mark(Block* b, bool live) noexcept {
  b->state.store(live ? kRunnable : kFree, std::memory_order_relaxed);
}

void TaskArena::visit_blocks(void (*fn)(Block*, void*), void* arg) const {
  std::vector<Block*> slabs;
  {
    std::lock_guard lk(mu_);
    slabs = slabs_;
  }
  for (Block* slab : slabs) {
    for (std::size_t i = 0; i < kBlocksPerSlab; ++i) fn(&slab[i], arg);
  }
}

}  // namespace green::detail
