// parked_stacks.cpp: the trimmer pass that releases the stack pages of long-parked tasks
// (design, bounds and invariant in parked_stacks.h).
#include "parked_stacks.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>

#include "scheduler.h"
#include "test_hooks.h"

namespace green::detail {

ParkedStackTrimmer::ParkedStackTrimmer(TaskArena& arena, Scheduler& sched)
    : arena_(arena), sched_(sched), page_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))) {}

void ParkedStackTrimmer::pass() noexcept {
  std::lock_guard lk(pass_mu_);
  try {
    arena_.visit_blocks(&ParkedStackTrimmer::visit, this);
  } catch (const std::bad_alloc&) {
    // No memory for the list of slabs: nothing changed, the next pass tries again.
  }
}

void ParkedStackTrimmer::visit(TaskArena::Block* b, void* self) noexcept {
  std::uint32_t s = b->state.load(std::memory_order_relaxed);
  if (s == kParked) {
    // Parked since before this pass: trimmed by the next one unless woken meanwhile.
    // Acquire, as below: the trimmer thread has then seen the task's saved context.
    b->state.compare_exchange_strong(s, kParkedOld, std::memory_order_acquire);
  } else if (s == kParkedOld && b->state.compare_exchange_strong(s, kTrimming, std::memory_order_acquire)) {
    // kParkedOld is written only by a pass, from the kParked of mark_parked, whose
    // release it continues: the task's stack and saved context are as the worker left
    // them, and no one runs the task until we let go.
    auto* t = static_cast<Task*>(TaskArena::payload(b));
    static_cast<ParkedStackTrimmer*>(self)->trim(t);
    s = kTrimming;
    if (!b->state.compare_exchange_strong(s, kParkedTrimmed, std::memory_order_release,
                                          std::memory_order_acquire)) {
      // A waker claimed it while we held it and left it to us (claim_parked).
      static_cast<ParkedStackTrimmer*>(self)->sched_.inject(t);
    }
  }
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
