// parked_stacks.cpp: the trimmer pass that releases the stack pages of long-parked tasks
// (design, bounds and invariant in parked_stacks.h).
#include "parked_stacks.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>

#include "process_barrier.h"
#include "scheduler.h"
#include "test_hooks.h"

namespace green::detail {

bool can_shrink_parked_stacks() noexcept { return process_barrier_available(); }

ParkedStackTrimmer::ParkedStackTrimmer(TaskArena& arena, Scheduler& sched)
    : arena_(arena),
      sched_(sched),
      page_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))),
      available_(can_shrink_parked_stacks()) {}

void ParkedStackTrimmer::pass() noexcept {
  if (!available_) return;
  std::lock_guard lk(pass_mu_);
  try {
    arena_.visit_blocks(&ParkedStackTrimmer::visit, this);
  } catch (const std::bad_alloc&) {
    // No memory for the list of slabs: the next pass tries again.
  }
  trim_held();
}

void ParkedStackTrimmer::visit(TaskArena::Block* b, void* self) noexcept {
  auto* me = static_cast<ParkedStackTrimmer*>(self);
  std::uint32_t s = b->state.load(std::memory_order_relaxed);
  if (s == kParked) {
    // Parked since before this pass: held by the next one unless woken meanwhile.
    // Acquire: the trimmer thread has then seen the task's saved context and stack.
    b->state.compare_exchange_strong(s, kParkedOld, std::memory_order_acquire);
  } else if (s == kParkedOld) {
    b->hold.store(kHeld, std::memory_order_relaxed);
    me->held_[me->held_count_++] = b;
    if (me->held_count_ == kBatch) me->trim_held();
  }
}

void ParkedStackTrimmer::trim_held() noexcept {
  if (held_count_ == 0) return;
  // Our hold stores before our state loads below, and every worker's kRunnable store
  // before its hold load (parked_stacks.h).
  process_barrier();
  for (std::size_t i = 0; i < held_count_; ++i) {
    TaskArena::Block* b = held_[i];
    auto* t = static_cast<Task*>(TaskArena::payload(b));
    std::uint32_t s = kParkedOld;
    // kParkedOld is written only by a pass, from the kParked of mark_parked, whose
    // release it continues: the task's stack and saved context are the worker's.
    if (b->state.load(std::memory_order_acquire) == kParkedOld) {
      trim(t);
      b->state.compare_exchange_strong(s, kParkedTrimmed, std::memory_order_release,
                                       std::memory_order_relaxed);
    }
    if (b->hold.exchange(kNotHeld, std::memory_order_acq_rel) == kHandedOn) sched_.inject(t);
  }
  held_count_ = 0;
}

void ParkedStackTrimmer::trim(Task* t) noexcept {
  GREEN_TEST_HOOK(parked_stack_trimming);
  const auto base = reinterpret_cast<std::uintptr_t>(t->stack.base);
  const auto sp = reinterpret_cast<std::uintptr_t>(t->ctx.fctx);
  if (!base || sp < base + page_) return;  // never started, or nothing whole below its page
  const std::uintptr_t end = sp & ~(page_ - 1);
  const std::size_t pages = (end - base) / page_;
  std::size_t resident = pages;
  try {
    residency_.resize(pages);
    if (::mincore(reinterpret_cast<void*>(base), end - base, residency_.data()) == 0) {
      resident = 0;
      for (unsigned char r : residency_) resident += r & 1;
    }
  } catch (const std::bad_alloc&) {
    // Cannot count: release the range anyway, counting it as resident.
  }
  if (resident == 0) return;  // the task never went deep: no madvise
  ::madvise(reinterpret_cast<void*>(base), end - base, MADV_DONTNEED);
  trimmed_.fetch_add(1, std::memory_order_relaxed);
  released_.fetch_add(resident * page_, std::memory_order_relaxed);
}

}  // namespace green::detail
