// cpu.h: the one place for CPU-specific instructions in the runtime, so a port to another
// architecture touches this file (and context.h's Boost.Context back end) only.
//
// Invariant: every function here is correct on any CPU; the architecture-specific forms
// only make it cheaper.
#pragma once

namespace green::detail {

// Tells the CPU the caller is spinning on a memory location: eases the pipeline and, on
// SMT cores, yields the core to its sibling. x86-64: PAUSE; AArch64: YIELD; elsewhere a
// compiler barrier, so the spin loop still re-reads memory.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

}  // namespace green::detail
