// context_jump.cpp: the runtime's own stack switch for x86-64 (System V, ELF),
// green_jump_context, which context.h's switch_context uses instead of Boost.Context's
// jump_fcontext there; other targets use Boost's.
//
// It is Boost 1.74's jump_fcontext (boost/context/asm/jump_x86_64_sysv_elf_gas.S) less
// the four instructions that save and load the x87 control word and MXCSR: fldcw and
// ldmxcsr serialise the FPU and cost several cycles each, about a fifth of a switch. So a
// task inherits the floating-point environment of the thread it runs on (as goroutines
// and marl's fibers do): a task that changes the rounding mode or the exception masks
// must restore them before it parks or yields. Everything else is as in Boost: the six
// callee-saved integer registers go on the suspending stack, in the frame layout that
// Boost's make_fcontext builds, so a context made by make_fcontext starts here.
//
// How it leaves, chosen by the third argument (`as_return`): false, as Boost does, by an
// indirect jump to the resume address; true, by `ret` to it (pushed back first), which
// keeps the CPU's return-address stack balanced (the call into the jump pushed an
// entry, the ret takes it). The ret is predicted when the context it resumes was
// suspended at the same call site, and then the returns after it stay paired with their
// calls: what a yield on one worker wants (Worker::yield_current), since every yielding
// task suspends at the one call site in this_task::yield's body (entry_points.cpp).
// Elsewhere the sites differ (a park, a finishing task, a task's first run) and the
// indirect jump, predicted from branch history, measured faster: spawn+join and skynet
// 10k took 6-7% more time with ret on every switch, though a channel hand-off took 29%
// less.
//
// Invariant: the frame is exactly Boost's (0x40 bytes: control words at 0x0, left
// unwritten and never read here; r12, r13, r14, r15, rbx, rbp at 0x8..0x30; the resume
// address at 0x38), and every switch of a context made for the runtime goes through
// this function: one that Boost's jump_fcontext resumed would load the stale control
// words.
#include "context.h"

#if GREEN_OWN_JUMP
asm(R"(
  .pushsection .text
  .globl green_jump_context
  .hidden green_jump_context
  .type green_jump_context, @function
  .p2align 4
green_jump_context:
  leaq  -0x38(%rsp), %rsp
  movq  %r12, 0x8(%rsp)
  movq  %r13, 0x10(%rsp)
  movq  %r14, 0x18(%rsp)
  movq  %r15, 0x20(%rsp)
  movq  %rbx, 0x28(%rsp)
  movq  %rbp, 0x30(%rsp)
  movq  %rsp, %rax
  movq  %rdi, %rsp
  movq  0x38(%rsp), %r8
  movq  0x8(%rsp), %r12
  movq  0x10(%rsp), %r13
  movq  0x18(%rsp), %r14
  movq  0x20(%rsp), %r15
  movq  0x28(%rsp), %rbx
  movq  0x30(%rsp), %rbp
  leaq  0x40(%rsp), %rsp
  testl %edx, %edx
  movq  %rsi, %rdx
  movq  %rax, %rdi
  jnz   1f
  jmp   *%r8
1:
  pushq %r8
  ret
  .size green_jump_context, .-green_jump_context
  .popsection
)");
#endif
