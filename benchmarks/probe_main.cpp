// probe_main.cpp: greenbench_probe, the measurements that need a fresh process each time
// (memory, max_count): the driver starts one process per measurement and reads the one
// results document it prints on stdout (docs/results-format.md, an "iteration" entry).
//
//   greenbench_probe memory    --runtime PREFIX --n N [--depth-kib D | --recursed-kib D]
//                              [--rep K] [--reps R]
//   greenbench_probe max_count --runtime PREFIX [--budget-bytes B] [--cap C]
//                              [--time-limit S] [--rep K] [--reps R]
//   greenbench_probe after_burst --runtime PREFIX --n N [--rep K] [--reps R]
//   greenbench_probe --list-runtimes     the prefixes the suite measures here, one a line
//   greenbench_probe --build-info        {"compiler", "cxx_flags", "build_type"} as JSON
// PREFIX is a runtime part of an entry name ("fiber/workers:2", "pthread/stack:64KiB",
// "boost_fiber/sched:work_stealing/workers:2/alloc:pooled"); --rep and --reps become the
// entry's repetition_index and repetitions. Entries: memory/PREFIX/n:N (with --depth-kib,
// memory/PREFIX/depth:DKiB/n:N: each task parks under D KiB of stack in use; with
// --recursed-kib, memory/PREFIX/recursed:DKiB/n:N: each task recursed through D KiB of
// stack, returned and parks shallow, and the entry has a third reading, *_settled,
// kSettleTrimIntervals trimmer intervals later; fiber rows carry the run's report) and
// max_count/PREFIX and after_burst/PREFIX/n:N (workload_memory.h, workload_max_count.h,
// workload_after_burst.h say what they measure).
//
// Exit status: 0 the document was printed; 1 the measurement failed its own check (tasks
// alive, tasks left after release, an exception), nothing printed; 2 a bad command line
// (unknown flag, workload or runtime, a value out of range, a budget above MemAvailable),
// with a message; 3 the size cannot exist here (N OS threads beyond what pid_max and the
// other limits allow, or N parked tasks beyond MemAvailable at one page each), with a
// one-line reason on stderr, so that the driver records a skip rather than a failure.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "harness/build_info.h"
#include "harness/entry_name.h"
#include "harness/program_exit.h"
#include "harness/results_document.h"
#include "harness/system_limits.h"
#include "tasks/runtime_set.h"
#include "workloads/workload_after_burst.h"
#include "workloads/workload_max_count.h"
#include "workloads/workload_memory.h"

namespace greenbench {
namespace {

constexpr double kEightGiB = 8.0 * 1024 * 1024 * 1024;
// Stack a task needs beyond --depth-kib: the runtime's frames below it and the task's own.
constexpr std::int64_t kDepthHeadroomBytes = 16 * 1024;
constexpr std::int64_t kMaxDepthKiB = 64;
// --recursed-kib: the third reading comes this many of the fiber runtime's trimmer
// intervals (green::Config::pool_trim_interval, 250 ms: 2 s) after the second, for every
// runtime alike: the trimmer has run at least three times by then, and Go's background
// scavenger, which the Go peer waits for as long, returns freed pages in paced bursts
// (on the reference VM most of a thousand shrunk goroutine stacks' within 1.5 s).
constexpr int kSettleTrimIntervals = 8;

struct Repetition {
  int index = 0;
  int count = 1;
};

// Refuses `n` tasks of `rt` alive at once when this machine cannot hold them.
template <TaskRuntime RT>
void check_size_possible([[maybe_unused]] const RT& rt, std::int64_t n, std::int64_t pages_each,
                         const std::string& entry) {
  if constexpr (RT::kind == TaskKind::os_thread) {
    const Headroom headroom = thread_headroom();
    if (headroom.tasks && n > *headroom.tasks) {
      throw ImpossibleSize(entry + ": " + std::to_string(n) + " threads cannot be alive at once here; " +
                           headroom.bound + " leaves room for about " + std::to_string(*headroom.tasks) +
                           " more");
    }
  }
  const std::int64_t available = meminfo_bytes("MemAvailable");
  const std::int64_t page = ::sysconf(_SC_PAGESIZE);
  if (available > 0 && n > available / (page * pages_each)) {
    throw ImpossibleSize(entry + ": " + std::to_string(n) + " parked tasks need at least " +
                         std::to_string(pages_each) + " stack page(s) each, " + "more than MemAvailable (" +
                         std::to_string(available) + " bytes)");
  }
}

// A parked-tasks measurement's own check: all `n` alive at the reading, none after release.
void check_alive_then_released(const std::string& name, std::int64_t n, std::int64_t alive,
                               std::int64_t left_alive) {
  if (alive != n) {
    throw std::runtime_error(name + ": " + std::to_string(alive) + " tasks alive at the reading, " +
                             std::to_string(n) + " spawned");
  }
  if (left_alive != 0) {
    throw std::runtime_error(name + ": " + std::to_string(left_alive) + " tasks still alive after release");
  }
}

// The memory counters of one reading over another, per task; `suffix` ends each name.
std::vector<std::pair<std::string, double>> memory_counters(const MemoryReading& after,
                                                            const MemoryReading& before, std::int64_t n,
                                                            const std::string& suffix) {
  const auto per_task = [n](std::int64_t a, std::int64_t b) {
    return static_cast<double>(a - b) / static_cast<double>(n);
  };
  return {
      {"rss_bytes_per_task" + suffix, per_task(after.rss_bytes, before.rss_bytes)},
      {"pss_bytes_per_task" + suffix, per_task(after.pss_bytes, before.pss_bytes)},
      {"vsz_bytes_per_task" + suffix, per_task(after.vsz_bytes, before.vsz_bytes)},
      {"page_table_bytes_per_task" + suffix,
       per_task(after.kernel.page_table_bytes, before.kernel.page_table_bytes)},
      {"kernel_stack_bytes_per_task" + suffix,
       per_task(after.kernel.kernel_stack_bytes, before.kernel.kernel_stack_bytes)},
      {"kernel_bytes_per_task" + suffix, per_task(after.kernel.bytes(), before.kernel.bytes())},
      {"total_bytes_per_task" + suffix,
       per_task(after.rss_bytes + after.kernel.bytes(), before.rss_bytes + before.kernel.bytes())},
  };
}

// How a memory entry's tasks use their stack: --depth-kib (parked under it) or
// --recursed-kib (returned from it, then parked shallow); at most one is non-zero.
struct StackParams {
  std::int64_t depth_kib = 0;
  std::int64_t recursed_kib = 0;
};

template <TaskRuntime RT>
IterationEntry memory_entry(const RT& rt, std::int64_t n, StackParams stack, Repetition rep) {
  std::vector<std::string> params;
  if (stack.depth_kib > 0) params.push_back("depth:" + std::to_string(stack.depth_kib) + "KiB");
  if (stack.recursed_kib > 0) params.push_back("recursed:" + std::to_string(stack.recursed_kib) + "KiB");
  params.push_back("n:" + std::to_string(n));
  const std::string name = entry_name("memory", rt.prefix(), params);
  const std::int64_t page = ::sysconf(_SC_PAGESIZE);
  const bool returned = stack.recursed_kib > 0;
  const std::int64_t stack_bytes = (returned ? stack.recursed_kib : stack.depth_kib) * 1024;
  const char* flag = returned ? "--recursed-kib " : "--depth-kib ";
  check_size_possible(rt, n, 1 + (stack_bytes + page - 1) / page, name);
  // A runtime with a fixed stack too small for the frames is refused, not overflowed: ours at
  // its default (64 KiB) and pthread/stack:64KiB; bench_all gives ours stack:128KiB there.
  if constexpr (requires { rt.stack_bytes(); }) {
    const auto given = static_cast<std::int64_t>(rt.stack_bytes());
    if (given > 0 && stack_bytes + kDepthHeadroomBytes > given) {
      throw UsageError(name + ": " + flag + std::to_string(stack_bytes / 1024) + " leaves under " +
                       std::to_string(kDepthHeadroomBytes / 1024) + " KiB of the " +
                       std::to_string(given / 1024) + " KiB stack this runtime gives a task");
    }
  }
  const std::optional<std::chrono::milliseconds> settle =
      returned ? std::optional(kSettleTrimIntervals * green::Config{}.pool_trim_interval) : std::nullopt;
  const MemoryResult r =
      measure_memory(rt, n, StackUse{static_cast<std::size_t>(stack_bytes), returned}, settle);
  check_alive_then_released(name, n, r.alive, r.left_alive);
  IterationEntry entry;
  entry.name = name;
  entry.repetitions = rep.count;
  entry.repetition_index = rep.index;
  entry.real_time = r.spawn_seconds * 1e9;
  entry.cpu_time = r.spawn_cpu_seconds * 1e9;
  entry.time_unit = "ns";
  entry.counters = memory_counters(r.after, r.before, n, "");
  entry.counters.emplace_back("tasks_alive", static_cast<double>(r.alive));
  if (r.settled) {
    for (auto& counter : memory_counters(*r.settled, r.before, n, "_settled"))
      entry.counters.push_back(counter);
  }
  for (const auto& counter : r.run_counters) entry.counters.push_back(counter);
  return entry;
}

template <TaskRuntime RT>
IterationEntry after_burst_entry(const RT& rt, std::int64_t n, Repetition rep) {
  const std::string name = entry_name("after_burst", rt.prefix(), {"n:" + std::to_string(n)});
  check_size_possible(rt, n, 1, name);
  const AfterBurstResult r = measure_after_burst(rt, n);
  check_alive_then_released(name, n, r.alive, r.left_alive);
  IterationEntry entry;
  entry.name = name;
  entry.repetitions = rep.count;
  entry.repetition_index = rep.index;
  entry.real_time = static_cast<double>(kAfterBurstWindow.count());
  entry.cpu_time = r.window_cpu_seconds * 1e3;
  entry.time_unit = "ms";
  entry.counters = {
      {"rss_bytes_before", static_cast<double>(r.before)},
      {"rss_bytes_peak", static_cast<double>(r.peak)},
      {"seconds_until_back", r.back_seconds >= 0 ? r.back_seconds : NAN},
      {"tasks_alive", static_cast<double>(r.alive)},
  };
  for (std::size_t i = 0; i < std::size(kAfterBurstOffsets); ++i) {
    entry.counters.emplace_back("rss_bytes_at_" + std::to_string(kAfterBurstOffsets[i].count()) + "ms",
                                static_cast<double>(r.at[i]));
  }
  entry.counters.insert(entry.counters.end(), r.run_counters.begin(), r.run_counters.end());
  return entry;
}

template <TaskRuntime RT>
IterationEntry max_count_entry(const RT& rt, const MaxCountLimits& limits, Repetition rep,
                               std::vector<std::string>& warnings) {
  const std::string name = entry_name("max_count", rt.prefix());
  const MaxCountResult r = measure_max_count(rt, limits);
  if (r.left_alive != 0) {
    throw std::runtime_error(name + ": " + std::to_string(r.left_alive) + " tasks still alive after release");
  }
  if (r.memory_after > limits.budget_bytes) {
    // Checkpoints predict from the average cost; an allocator that grows in large blocks
    // (boost::pool doubles) can still step past the budget within one spawn.
    warnings.push_back(name + ": the final reading (" + std::to_string(r.memory_after) +
                       " bytes) is past the budget (" + std::to_string(limits.budget_bytes) +
                       "): the runtime's memory grew by more than a checkpoint's margin in one step");
  }
  const double per_task =
      r.tasks > 0 ? static_cast<double>(r.memory_after - r.memory_before) / static_cast<double>(r.tasks)
                  : NAN;
  IterationEntry entry;
  entry.name = name;
  entry.repetitions = rep.count;
  entry.repetition_index = rep.index;
  entry.real_time = r.seconds * 1e3;
  entry.cpu_time = r.cpu_seconds * 1e3;
  entry.time_unit = "ms";
  entry.label = "bound:" + r.bound;
  entry.counters = {
      {"max_tasks", static_cast<double>(r.tasks)},
      {"seconds", r.seconds},
      {"bytes_per_task", per_task},
      {"tasks_in_8GiB", per_task > 0 ? kEightGiB / per_task : NAN},
      {"map_count", static_cast<double>(r.maps)},
  };
  return entry;
}

AnyRuntime runtime_or_usage_error(const std::string& prefix) {
  if (auto rt = runtime_named(prefix)) return *rt;
  std::string known;
  for (const std::string& p : suite_runtime_prefixes()) known += "\n  " + p;
  throw UsageError("unknown runtime '" + prefix +
                   "'; the suite measures these here (worker counts may vary):" + known);
}

int probe_main(int argc, char** argv) {
  CLI::App app{
      "greenbench_probe: memory, max_count and after_burst, one measurement per process, as a "
      "results document"};
  app.require_subcommand(0, 1);
  bool show_build_info = false;
  bool list_runtimes = false;
  app.add_flag("--build-info", show_build_info, "print how this binary was built, as JSON");
  app.add_flag("--list-runtimes", list_runtimes, "print the runtime prefixes the suite measures here");

  const CLI::Validator at_least_one = CLI::Range(std::int64_t{1}, std::numeric_limits<std::int64_t>::max());
  std::string runtime;
  Repetition rep;
  const auto add_common = [&](CLI::App* sub) {
    sub->add_option("--runtime", runtime, "runtime prefix, e.g. fiber/workers:1 or pthread/stack:64KiB")
        ->required();
    sub->add_option("--rep", rep.index, "this measurement's repetition_index")
        ->check(CLI::Range(0, std::numeric_limits<int>::max()));
    sub->add_option("--reps", rep.count, "repetitions in the run")
        ->check(CLI::Range(1, std::numeric_limits<int>::max()));
  };

  std::int64_t n = 0;
  CLI::App* memory = app.add_subcommand("memory", "memory per parked task with N alive at once");
  add_common(memory);
  memory->add_option("--n", n, "tasks parked at once")->required()->check(at_least_one);
  StackParams stack;
  CLI::Option* depth_option =
      memory
          ->add_option("--depth-kib", stack.depth_kib,
                       "each task parks under this much stack in use, KiB (default 0)")
          ->check(CLI::Range(std::int64_t{0}, kMaxDepthKiB));
  memory
      ->add_option("--recursed-kib", stack.recursed_kib,
                   "each task first recurses through this much stack, KiB, returns and parks shallow; "
                   "memory is read again after the runtime had time to give stack back (default 0)")
      ->check(CLI::Range(std::int64_t{0}, kMaxDepthKiB))
      ->excludes(depth_option);

  MaxCountLimits limits{std::int64_t{1} << 30, 10'000'000, 60.0};
  CLI::App* max_count =
      app.add_subcommand("max_count", "parked tasks until a budget, cap, time or system limit");
  add_common(max_count);
  max_count
      ->add_option(
          "--budget-bytes", limits.budget_bytes,
          "stop before resident + kernel memory (page tables, kernel stacks) exceeds this (default 1 GiB)")
      ->check(at_least_one);
  max_count->add_option("--cap", limits.cap, "stop at this many tasks (default 10,000,000)")
      ->check(at_least_one);
  max_count
      ->add_option("--time-limit", limits.time_limit_seconds,
                   "stop spawning after this many seconds (default 60)")
      ->check(CLI::PositiveNumber);

  CLI::App* after_burst =
      app.add_subcommand("after_burst", "resident memory over time after a burst of N parked tasks");
  add_common(after_burst);
  after_burst->add_option("--n", n, "tasks in the burst, all parked at once")
      ->required()
      ->check(at_least_one);

  return run_program("greenbench_probe", app, argc, argv, [&] {
    if (show_build_info) {
      std::cout << build_info().dump(2) << '\n';
      return 0;
    }
    if (list_runtimes) {
      for (const std::string& prefix : suite_runtime_prefixes()) std::cout << prefix << '\n';
      return 0;
    }
    if (app.get_subcommands().empty())
      throw UsageError("a workload is required: memory, max_count or after_burst (--help)");
    if (rep.index >= rep.count) throw UsageError("--rep must be below --reps");
    const AnyRuntime any = runtime_or_usage_error(runtime);
    IterationEntry entry;
    std::vector<std::string> warnings;
    if (memory->parsed()) {
      entry = std::visit([&](const auto& rt) { return memory_entry(rt, n, stack, rep); }, any);
    } else if (after_burst->parsed()) {
      entry = std::visit([&](const auto& rt) { return after_burst_entry(rt, n, rep); }, any);
    } else {
      const std::int64_t available = meminfo_bytes("MemAvailable");
      if (available > 0 && limits.budget_bytes > available) {
        throw UsageError("--budget-bytes " + std::to_string(limits.budget_bytes) + " exceeds MemAvailable (" +
                         std::to_string(available) +
                         " bytes): the OOM killer, not the budget, would stop the run");
      }
      entry = std::visit([&](const auto& rt) { return max_count_entry(rt, limits, rep, warnings); }, any);
    }
    std::cout << results_document(results_context(argv[0], warnings), {entry});
    return 0;
  });
}

}  // namespace
}  // namespace greenbench

int main(int argc, char** argv) { return greenbench::probe_main(argc, argv); }
