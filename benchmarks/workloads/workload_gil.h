// workload_gil.h: the gil workload on greenbench's fiber runtime: a fixed CPU-bound job
// split into W equal parts run as W tasks on W workers; the Python peer runs the same job
// on W CPython threads (held back by the GIL) and W processes.
//
// The job, one definition for every peer:
//     sum over i in [0, 20,000,000) of (i * i) mod 1,000,003
// in 64-bit unsigned arithmetic (i * i < 2^49 never overflows), whose value is
// kGilJobSum. Split into W parts, part k covers [k*S/W, (k+1)*S/W) with S = 20,000,000
// (the Python peer's job_parts()). The modulo keeps the compiler from replacing the loop
// by a closed form (GCC does that to a plain sum of i), so the job is real work.
//   seconds   wall time of the W-part job: spawning the W tasks to joining the last
//   speedup   the 1-part job's time, measured in the same iteration on the same runtime,
//             divided by `seconds` (exactly 1 for W = 1, where one run is both)
//
// Invariant: an iteration whose parts do not add up to kGilJobSum fails the entry.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tasks/task_runtime.h"
#include "workloads/timing_support.h"

namespace greenbench {

inline constexpr std::uint64_t kGilJobSize = 20'000'000;
inline constexpr std::uint64_t kGilJobModulus = 1'000'003;
// python3 -c "print(sum(i*i % 1_000_003 for i in range(20_000_000)))"
inline constexpr std::uint64_t kGilJobSum = 9'997'949'919'950;

// The job's terms in [begin, end). Out of line, so no caller can fold it into a constant.
[[gnu::noinline]] inline std::uint64_t gil_job_part(std::uint64_t begin, std::uint64_t end) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = begin; i < end; ++i) sum += i * i % kGilJobModulus;
  return sum;
}

// Runs the job split into `parts` tasks; returns the wall seconds, checks the sum.
template <TaskRuntime RT>
double gil_job_seconds(const RT& rt, unsigned parts) {
  std::vector<std::uint64_t> sums(parts);
  std::vector<typename RT::Handle> tasks(parts);
  const auto began = Clock::now();
  for (unsigned k = 0; k < parts; ++k) {
    tasks[k] = rt.spawn([&sums, k, parts] {
      sums[k] = gil_job_part(k * kGilJobSize / parts, (k + 1) * kGilJobSize / parts);
    });
  }
  for (auto& task : tasks) task.join();
  const double seconds = seconds_between(began, Clock::now());
  std::uint64_t total = 0;
  for (std::uint64_t sum : sums) total += sum;
  benchmark::DoNotOptimize(total);
  if (total != kGilJobSum) {
    throw std::runtime_error("gil: the " + std::to_string(parts) + "-part job summed " +
                             std::to_string(total) + ", want " + std::to_string(kGilJobSum));
  }
  return seconds;
}

template <TaskRuntime RT>
void gil_workload(benchmark::State& state, const RT& rt, unsigned workers) {
  fail_entry_on_exception(state, [&] {
    rt.run([&] {
      gil_job_seconds(rt, workers);  // warm-up, unreported, as the Python peer does
      IterationCounters counters;
      for (auto _ : state) {
        const double seconds = gil_job_seconds(rt, workers);
        const double one_part = workers == 1 ? seconds : gil_job_seconds(rt, 1);
        state.SetIterationTime(seconds);
        counters.add("seconds", seconds);
        counters.add("speedup", one_part / seconds);
      }
      counters.publish(state);
    });
  });
}

}  // namespace greenbench
