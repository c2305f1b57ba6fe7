// cpu_affinity.cpp: allowed_cpus and ScopedPin over sched_{get,set}affinity.
#include "harness/cpu_affinity.h"

#include <cerrno>
#include <system_error>

namespace greenbench {
namespace {

cpu_set_t current_mask() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (::sched_getaffinity(0, sizeof mask, &mask) != 0) {
    throw std::system_error(errno, std::generic_category(), "sched_getaffinity");
  }
  return mask;
}

}  // namespace

std::vector<int> allowed_cpus() {
  const cpu_set_t mask = current_mask();
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &mask)) cpus.push_back(cpu);
  }
  return cpus;
}

cpu_set_t cpu_mask(const std::vector<int>& cpus) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  for (const int cpu : cpus) CPU_SET(cpu, &mask);
  return mask;
}

ScopedPin::ScopedPin(int cpu) : ScopedPin(std::vector<int>{cpu}) {}

ScopedPin::ScopedPin(const std::vector<int>& cpus) : previous_(current_mask()) {
  const cpu_set_t mask = cpu_mask(cpus);
  if (::sched_setaffinity(0, sizeof mask, &mask) != 0) {
    throw std::system_error(errno, std::generic_category(), "sched_setaffinity");
  }
}

ScopedPin::~ScopedPin() { ::sched_setaffinity(0, sizeof previous_, &previous_); }

}  // namespace greenbench
