// timing_support.h: what every timing workload shares: the wall clock it measures with,
// the measured part of an iteration (timed, and marked for callgrind), counters reported
// as plain per-iteration values, the kernel's count of this process's context switches
// and page faults and its peak resident memory around the measured part, and failing an
// entry (rather than the process) when a run goes wrong.
//
// Invariant: every counter is the mean over an entry's iterations of a value measured in
// one iteration (benchmark::Counter::kAvgIterations), so Google Benchmark's aggregates
// over repetitions are aggregates of per-iteration figures; the iteration time handed to
// Google Benchmark is what the workload measured with steady_clock (UseManualTime), never
// the benchmark thread's CPU time: joins and hand-offs block.
#pragma once

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <valgrind/callgrind.h>

#include <chrono>
#include <exception>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "harness/procfs.h"

namespace greenbench {

using Clock = std::chrono::steady_clock;

inline double seconds_between(Clock::time_point begin, Clock::time_point end) {
  return std::chrono::duration<double>(end - begin).count();
}

// The measured part of one iteration: its wall time and, under callgrind (valgrind
// --tool=callgrind --instr-atstart=no, as bench_all counts instructions), its
// instructions: instrumentation is on from construction to seconds() of a part that
// counts, and off for a warm-up, so a process's count covers its measured parts only.
// Outside valgrind a client request is a few instructions that do nothing.
class MeasuredPart {
 public:
  enum Kind { measured, warm_up };

  explicit MeasuredPart(Kind kind) : counted_(kind == measured), began_(Clock::now()) {
    if (counted_) CALLGRIND_START_INSTRUMENTATION;
  }

  // Ends the part (once): its wall seconds.
  double seconds() {
    if (counted_) CALLGRIND_STOP_INSTRUMENTATION;
    counted_ = false;
    return seconds_between(began_, Clock::now());
  }

 private:
  bool counted_;
  Clock::time_point began_;
};

class IterationCounters {
 public:
  void add(const std::string& name, double value) { sums_[name] += value; }

  // Sets every counter on `state` as its mean per iteration.
  void publish(benchmark::State& state) const {
    for (const auto& [name, sum] : sums_) {
      state.counters[name] = benchmark::Counter(sum, benchmark::Counter::kAvgIterations);
    }
  }

 private:
  std::map<std::string, double> sums_;
};

// What the kernel counted for this whole process (every thread, ended ones included):
// context switches a thread asked for by blocking or yielding (voluntary), those forced
// on it by preemption (involuntary), minor page faults (a first touch of memory), and
// user + system CPU time (idle workers' spinning included).
struct ProcessUsage {
  double voluntary = 0, involuntary = 0, minor_faults = 0, cpu_seconds = 0;

  static ProcessUsage now() {
    rusage r{};
    ::getrusage(RUSAGE_SELF, &r);
    const auto seconds = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
    };
    return {static_cast<double>(r.ru_nvcsw), static_cast<double>(r.ru_nivcsw),
            static_cast<double>(r.ru_minflt), seconds(r.ru_utime) + seconds(r.ru_stime)};
  }

  // Adds the change since `before`, per operation (a switch, a task), to `counters`:
  // voluntary_switches_per_op, involuntary_switches_per_op, minor_faults_per_op,
  // cpu_ns_per_op. They count the kernel's side of the measured part: a switch between
  // OS threads is one or two kernel context switches, one between fibers on one worker
  // none; cpu_ns_per_op beside the wall time per operation says how many CPUs were busy.
  void add_since(const ProcessUsage& before, double operations, IterationCounters& counters) const {
    counters.add("voluntary_switches_per_op", (voluntary - before.voluntary) / operations);
    counters.add("involuntary_switches_per_op", (involuntary - before.involuntary) / operations);
    counters.add("minor_faults_per_op", (minor_faults - before.minor_faults) / operations);
    counters.add("cpu_ns_per_op", (cpu_seconds - before.cpu_seconds) * 1e9 / operations);
  }
};

// The process's peak resident memory over one measured run: reset before the run (the
// peak then starts at the present Rss, the process's baseline included), read after it.
// Workloads add it as peak_rss_bytes: the largest Rss the run reached, not its increase.
class PeakResident {
 public:
  PeakResident() { reset_peak_resident(); }
  void add_to(IterationCounters& counters) const {
    counters.add("peak_rss_bytes", static_cast<double>(peak_resident_bytes()));
  }
};

// Runs root() in rt and returns the counters of the runtime's report on the run: where its
// run() returns a report, RT::run_counters turns it into counters (ours); none elsewhere.
template <class RT, class Root>
std::vector<std::pair<std::string, double>> run_reporting(const RT& rt, Root&& root) {
  if constexpr (std::is_void_v<decltype(rt.run(root))>) {
    rt.run(std::forward<Root>(root));
    return {};
  } else {
    return RT::run_counters(rt.run(std::forward<Root>(root)));
  }
}

// Runs root() in rt; the runtime's counters (run_reporting) go on the entry as they are:
// figures of the whole run, warm-up included, not means per iteration.
template <class RT, class Root>
void run_recording(benchmark::State& state, const RT& rt, Root&& root) {
  for (const auto& [name, value] : run_reporting(rt, std::forward<Root>(root))) state.counters[name] = value;
}

// Runs body(); an exception it throws marks the entry as failed (the timing binary then
// exits non-zero) instead of ending the process.
template <class Body>
void fail_entry_on_exception(benchmark::State& state, Body&& body) {
  try {
    body();
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
  }
}

}  // namespace greenbench
