// task_blocks.cpp: the task arena's slabs, batches and trim passes (design and invariant
// in task_blocks.h).
#include "task_blocks.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <new>

#include "context.h"

namespace green::detail {
namespace {
static_assert(TaskArena::kBlocksPerSlab % TaskArena::kBatch == 0, "a slab splits into whole batches");

std::size_t slab_bytes() {
  static const std::size_t bytes = [] {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return (sizeof(TaskArena::Block) * TaskArena::kBlocksPerSlab + page - 1) / page * page;
  }();
  return bytes;
}

// Links a slab's blocks into kBlocksPerSlab / kBatch batches and pushes their heads.
// Writes only next_free: a fresh or decommitted slab reads as zero, every block free.
void link_slab(TaskArena::Block* slab, std::vector<TaskArena::Block*>& batches) noexcept {
  constexpr std::size_t n = TaskArena::kBlocksPerSlab, batch = TaskArena::kBatch;
  for (std::size_t i = 0; i < n; ++i) slab[i].next_free = (i + 1) % batch != 0 ? &slab[i + 1] : nullptr;
  for (std::size_t i = n; i > 0; i -= batch) batches.push_back(&slab[i - batch]);
}
}  // namespace

TaskArena::TaskArena(std::size_t keep, std::function<void()> trim_due)
    : keep_batches_((keep + kBatch - 1) / kBatch), trim_due_(std::move(trim_due)) {}

TaskArena::~TaskArena() {
  for (Block* slab : slabs_) ::munmap(slab, slab_bytes());
}

TaskArena::Block* TaskArena::take_batch_locked() {
  if (batches_.empty()) {
    if (!cold_slabs_.empty()) {
      link_slab(cold_slabs_.back(), batches_);  // room reserved when it was carved
      cold_slabs_.pop_back();
    } else {
      void* p = ::mmap(nullptr, slab_bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      try {
        // Room for every batch and cold slab there can ever be, so that neither
        // give_batch nor a trim pass ever allocates under the lock.
        slabs_.reserve(slabs_.size() + 1);
        cold_slabs_.reserve(slabs_.size() + 1);
        batches_.reserve((slabs_.size() + 1) * (kBlocksPerSlab / kBatch));
      } catch (...) {
        ::munmap(p, slab_bytes());
        throw;
      }
      auto* slab = static_cast<Block*>(p);
      for (std::size_t i = 0; i < kBlocksPerSlab; ++i) {  // before the trimmer can see it
        std::construct_at(&slab[i].state, kFree);
        std::construct_at(&slab[i].hold, kNotHeld);
      }
      slabs_.push_back(slab);
      link_slab(slab, batches_);
    }
  }
  Block* batch = batches_.back();
  batches_.pop_back();
  low_water_ = std::min(low_water_, batches_.size());
  return batch;
}

void TaskArena::push_batch_locked(Block* batch) noexcept {
  batches_.push_back(batch);  // never reallocates: see take_batch_locked
  if (!trim_armed_ && batches_.size() > keep_batches_) {
    trim_armed_ = true;
    if (trim_due_) trim_due_();
  }
}

TaskArena::Block* TaskArena::take_batch() {
  std::lock_guard lk(mu_);
  return take_batch_locked();
}

void TaskArena::give_batch(Block* batch) noexcept {
  std::lock_guard lk(mu_);
  push_batch_locked(batch);
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
    push_batch_locked(loose_);
    loose_ = nullptr;
    loose_count_ = 0;
  }
  b->next_free = loose_;
  loose_ = b;
  ++loose_count_;
}

bool TaskArena::trim_unused() noexcept {
  std::lock_guard pass(trim_mu_);
  trim_batches_.clear();
  trim_kept_.clear();
  {
    std::lock_guard lk(mu_);
    if (!trim_armed_) return false;
    const std::size_t unused = std::min(low_water_, batches_.size());
    const std::size_t n = unused > keep_batches_ ? unused - keep_batches_ : 0;
    try {
      trim_batches_.reserve(n);
      trim_kept_.reserve(n);
      trim_slabs_.assign(slabs_.begin(), slabs_.end());
      trim_counts_.assign(slabs_.size(), 0);
    } catch (const std::bad_alloc&) {
      return true;  // no memory for the bookkeeping: keep the blocks, try next pass
    }
    const auto first = batches_.begin(), last = batches_.begin() + static_cast<std::ptrdiff_t>(n);
    trim_batches_.assign(first, last);
    batches_.erase(first, last);
    low_water_ = batches_.size();
  }
  // Outside the lock: the pass owns its batches (and reads only their links); the
  // snapshot of the slabs covers every block in them.
  std::sort(trim_slabs_.begin(), trim_slabs_.end());
  auto slab_of = [this](Block* b) {
    return static_cast<std::size_t>(std::upper_bound(trim_slabs_.begin(), trim_slabs_.end(), b) -
                                    trim_slabs_.begin() - 1);
  };
  for (Block* head : trim_batches_) {
    for (Block* b = head; b; b = b->next_free) ++trim_counts_[slab_of(b)];
  }
  // The blocks of slabs not wholly free go back relinked into whole batches (a pass
  // takes whole batches and drops whole slabs, so what is left is whole batches too).
  Block* batch = nullptr;
  std::size_t in_batch = 0;
  for (Block* head : trim_batches_) {
    for (Block *b = head, *next; b; b = next) {
      next = b->next_free;
      if (trim_counts_[slab_of(b)] == kBlocksPerSlab) continue;
      b->next_free = batch;
      batch = b;
      if (++in_batch == kBatch) {
        trim_kept_.push_back(batch);  // reserved: no throw
        batch = nullptr;
        in_batch = 0;
      }
    }
  }
  std::size_t cold = 0;
  for (std::size_t i = 0; i < trim_slabs_.size(); ++i) {
    if (trim_counts_[i] != kBlocksPerSlab) continue;
    ::madvise(trim_slabs_[i], slab_bytes(), MADV_DONTNEED);
    trim_slabs_[cold++] = trim_slabs_[i];
  }
  std::lock_guard lk(mu_);
  // Back at the bottom of the LIFO, untaken: the next pass looks at them again.
  batches_.insert(batches_.begin(), trim_kept_.begin(), trim_kept_.end());  // reserved: no throw
  low_water_ += trim_kept_.size();
  cold_slabs_.insert(cold_slabs_.end(), trim_slabs_.begin(),
                     trim_slabs_.begin() + static_cast<std::ptrdiff_t>(cold));
  decommitted_ += cold * kBlocksPerSlab;
  // Stay armed while there is more to look at: batches beyond keep that this pass did
  // not look at, or a pass that freed something. One that looked at every batch beyond
  // keep and freed nothing disarms; the next batch given beyond keep re-arms.
  trim_armed_ =
      batches_.size() > keep_batches_ + trim_kept_.size() || (cold > 0 && batches_.size() > keep_batches_);
  return trim_armed_;
}

std::uint64_t TaskArena::carved() const {
  std::lock_guard lk(mu_);
  return slabs_.size() * kBlocksPerSlab;
}

std::uint64_t TaskArena::decommitted() const {
  std::lock_guard lk(mu_);
  return decommitted_;
}

std::uint64_t TaskArena::destroy_live() noexcept {
  std::uint64_t n = 0;
  for (Block* slab : slabs_) {
    for (std::size_t i = 0; i < kBlocksPerSlab; ++i) {
      if (slab[i].state.load(std::memory_order_relaxed) == kFree) continue;
      auto* t = static_cast<Task*>(payload(&slab[i]));
      retire_context(t->ctx);
      retire_stack(t->stack);         // ASan: its frames' redzones, or a slab mapped later here inherits them
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
  std::vector<Block*> all, cold, slabs;
  {
    std::lock_guard lk(mu_);
    all = slabs_;
    cold = cold_slabs_;
  }
  std::sort(all.begin(), all.end());
  std::sort(cold.begin(), cold.end());
  std::set_difference(all.begin(), all.end(), cold.begin(), cold.end(), std::back_inserter(slabs));
  for (Block* slab : slabs) {
    for (std::size_t i = 0; i < kBlocksPerSlab; ++i) fn(&slab[i], arg);
  }
}

}  // namespace green::detail
