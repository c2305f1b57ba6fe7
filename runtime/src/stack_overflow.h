// stack_overflow.h: turning a fault in a fiber's guard page (stack_pool.h) into a message
// that names the task, instead of a bare SIGSEGV.
//
// Invariant: the handler is installed once per process and runs on a per-worker
// alternate signal stack (the faulting stack is unusable); it only reports, then lets the
// fault happen again with the default action, so the process always ends.
#pragma once

namespace green::detail {

// Installs (once per process) a SIGSEGV handler that recognises a fault in a fiber's
// guard page and ends the process with a message naming the task and the stack size.
void install_overflow_handler();
// Each worker thread calls prepare_signal_stack() when it starts, so the handler can run
// while the faulting stack is unusable, and release_signal_stack() when it ends.
void prepare_signal_stack();
void release_signal_stack() noexcept;

}  // namespace green::detail
