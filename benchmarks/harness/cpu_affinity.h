// cpu_affinity.h: the CPUs this process may run on, and pinning the calling thread to one
// or to a set. Workloads pin OS threads (switch's cpus:1 and cpus:2; echo puts its client
// and server on CPU sets); the runtime set sizes "all cores" from the same mask, so a run
// under taskset counts the CPUs it really has.
//
// Invariant: a ScopedPin restores the calling thread's previous mask when it ends, so a
// pinned entry never leaks its pinning into the next one run by the same process.
#pragma once

#include <sched.h>

#include <vector>

namespace greenbench {

// CPU numbers in the calling thread's affinity mask, ascending.
std::vector<int> allowed_cpus();

// The mask of `cpus`, e.g. for sched_setaffinity in a child between fork and exec.
cpu_set_t cpu_mask(const std::vector<int>& cpus);

class ScopedPin {
 public:
  // Pins the calling thread (and so every thread it creates from now on) to `cpu`;
  // throws std::system_error when the kernel refuses.
  explicit ScopedPin(int cpu);
  // Pins it to the set `cpus` (not empty).
  explicit ScopedPin(const std::vector<int>& cpus);
  ScopedPin(const ScopedPin&) = delete;
  ScopedPin& operator=(const ScopedPin&) = delete;
  ~ScopedPin();

 private:
  cpu_set_t previous_;
};

}  // namespace greenbench
