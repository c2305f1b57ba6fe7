// probe_test.cpp: greenbench_probe run as the driver runs it, one process per
// measurement, at tiny sizes: the results document it prints (name, keys, counters), the
// work it checks (tasks alive, tasks parked deep holding their frames, the bound that
// stopped max_count, memory given back after a burst), and its exit status for each kind of bad command line
// and for sizes the machine's limits rule out.
//
// Invariant: every runtime the suite measures here (--list-runtimes) is exercised,
// Boost.Fiber's work_stealing included, each measurement in a process of its own.
#include <gtest/gtest.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "suite_programs.h"

namespace greenbench::testing {
namespace {

const std::string& kProbe = kProbeProgram;

// The one entry of the document a successful probe printed.
nlohmann::json only_entry(const ProgramResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_TRUE(doc.at("context").at("greenbench").at("limits").is_object());
  EXPECT_EQ(doc.at("benchmarks").size(), 1u);
  const nlohmann::json entry = doc.at("benchmarks").at(0);
  EXPECT_EQ(entry.at("run_name"), entry.at("name"));
  EXPECT_EQ(entry.at("run_type"), "iteration");
  EXPECT_EQ(entry.at("threads"), 1);
  return entry;
}

TEST(ProbeMemory, EveryTaskIsAliveAtTheReading) {
  for (const std::string& runtime : suite_runtimes()) {
    SCOPED_TRACE(runtime);
    const nlohmann::json entry = only_entry(
        run_program(kProbe, {"memory", "--runtime", runtime, "--n", "1000", "--rep", "1", "--reps", "2"}));
    EXPECT_EQ(entry.at("name"), "memory/" + runtime + "/n:1000");
    EXPECT_EQ(entry.at("repetition_index"), 1);
    EXPECT_EQ(entry.at("repetitions"), 2);
    EXPECT_EQ(entry.at("tasks_alive"), 1000);
    // Every parked task has touched at least one stack page. The other deltas are not
    // checked for sign: at a small N the runtime's own mappings (a worker's malloc arena,
    // a pool trimmed) and the rest of the machine (kernel memory) can outweigh the tasks.
    EXPECT_GT(entry.at("rss_bytes_per_task").get<double>(), 1000);
    // Spawning 1000 tasks costs the process some CPU, measured (getrusage), not copied.
    EXPECT_GT(entry.at("cpu_time").get<double>(), 0);
    for (const char* counter :
         {"pss_bytes_per_task", "vsz_bytes_per_task", "page_table_bytes_per_task", "kernel_bytes_per_task"}) {
      EXPECT_TRUE(entry.at(counter).is_number()) << counter;
    }
    // Kernel memory is this process's own: an OS thread per task adds one kernel stack
    // per task, an M:N runtime none (its workers started before the first reading).
    const double stacks = entry.at("kernel_stack_bytes_per_task").get<double>();
    const bool os_threads = runtime.starts_with("std_thread") || runtime.starts_with("pthread");
    EXPECT_EQ(stacks, os_threads ? 16384.0 : 0.0);
    EXPECT_DOUBLE_EQ(entry.at("kernel_bytes_per_task").get<double>(),
                     entry.at("page_table_bytes_per_task").get<double>() + stacks);
    EXPECT_DOUBLE_EQ(
        entry.at("total_bytes_per_task").get<double>(),
        entry.at("rss_bytes_per_task").get<double>() + entry.at("kernel_bytes_per_task").get<double>());
  }
}

TEST(ProbeMemory, TasksParkedDeepHoldTheStackTheyTouched) {
  // Under 16 KiB of frames each task holds at least 16 KiB more than a shallow one: the
  // frames are real (not optimised away) and every runtime keeps them resident.
  constexpr double kDepth = 16 * 1024;
  for (const std::string& runtime : suite_runtimes()) {
    SCOPED_TRACE(runtime);
    const nlohmann::json shallow =
        only_entry(run_program(kProbe, {"memory", "--runtime", runtime, "--n", "1000"}));
    const nlohmann::json deep =
        only_entry(run_program(kProbe, {"memory", "--runtime", runtime, "--n", "1000", "--depth-kib", "16"}));
    EXPECT_EQ(deep.at("name"), "memory/" + runtime + "/depth:16KiB/n:1000");
    EXPECT_EQ(deep.at("tasks_alive"), 1000);
    EXPECT_GT(deep.at("rss_bytes_per_task").get<double>() - shallow.at("rss_bytes_per_task").get<double>(),
              kDepth * 0.9);
  }
}

// Whether this kernel lets a process use membarrier's private expedited command, which
// the runtime's parked-stack trimmer needs.
bool private_expedited_membarrier() {
  const long commands = ::syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0);
  return commands > 0 && (commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0;
}

TEST(ProbeMemory, TasksThatRecursedAndReturnedAreReadAgainLater) {
  // Each task wrote 64 KiB of frames and returned before parking: right after, an OS
  // thread or a Boost.Fiber still holds those pages, and one that cannot give them back
  // still does at the later reading. Every runtime has both readings, the later one with
  // the same parts as the first. One runtime of each kind: each run waits 2 s.
  constexpr double kRecursed = 64 * 1024;
  // Ours at 128 KiB: its default 64 KiB cannot hold 64 KiB of frames and more.
  for (const std::string runtime : {"fiber/workers:1/stack:128KiB", "std_thread", "pthread/stack:default",
                                    "boost_fiber/sched:round_robin/workers:1/alloc:pooled"}) {
    SCOPED_TRACE(runtime);
    const nlohmann::json entry = only_entry(
        run_program(kProbe, {"memory", "--runtime", runtime, "--n", "200", "--recursed-kib", "64"}));
    EXPECT_EQ(entry.at("name"), "memory/" + runtime + "/recursed:64KiB/n:200");
    EXPECT_EQ(entry.at("tasks_alive"), 200);
    EXPECT_DOUBLE_EQ(entry.at("total_bytes_per_task_settled").get<double>(),
                     entry.at("rss_bytes_per_task_settled").get<double>() +
                         entry.at("kernel_bytes_per_task_settled").get<double>());
    EXPECT_DOUBLE_EQ(entry.at("kernel_bytes_per_task_settled").get<double>(),
                     entry.at("page_table_bytes_per_task_settled").get<double>() +
                         entry.at("kernel_stack_bytes_per_task_settled").get<double>());
    if (runtime.starts_with("fiber/")) {
      // Ours gives the pages below a parked task's stack pointer back from its trimmer
      // (runtime/README.md, "Stacks that shrink"), where membarrier(2) allows it.
      EXPECT_GT(entry.at("rss_bytes_per_task").get<double>(), kRecursed * 0.9);
      if (private_expedited_membarrier()) {
        EXPECT_GE(entry.at("parked_stacks_trimmed").get<double>(), 200);
        EXPECT_LT(entry.at("rss_bytes_per_task_settled").get<double>(),
                  entry.at("rss_bytes_per_task").get<double>() / 4);
      }
    } else {
      EXPECT_GT(entry.at("rss_bytes_per_task").get<double>(), kRecursed * 0.9);
      EXPECT_GT(entry.at("rss_bytes_per_task_settled").get<double>(), kRecursed * 0.9);
    }
  }
}

// after_burst watches for 5 s, so two runtimes only: ours, whose trimmer hands a burst's
// stacks and task blocks back within two of its 250 ms intervals, and OS threads.
TEST(ProbeAfterBurst, RecordsMemoryOverTimeAndTheFiberRuntimeGivesItBack) {
  constexpr int kN = 20'000;
  for (const std::string runtime : {"fiber/workers:1", "std_thread"}) {
    SCOPED_TRACE(runtime);
    const nlohmann::json entry =
        only_entry(run_program(kProbe, {"after_burst", "--runtime", runtime, "--n", std::to_string(kN)}));
    EXPECT_EQ(entry.at("name"), "after_burst/" + runtime + "/n:" + std::to_string(kN));
    EXPECT_EQ(entry.at("tasks_alive"), kN);
    const double before = entry.at("rss_bytes_before").get<double>();
    const double peak = entry.at("rss_bytes_peak").get<double>();
    EXPECT_GT(peak - before, kN * 4096.0) << "each parked task holds at least a stack page";
    for (const char* at : {"rss_bytes_at_0ms", "rss_bytes_at_100ms", "rss_bytes_at_500ms",
                           "rss_bytes_at_1000ms", "rss_bytes_at_2000ms", "rss_bytes_at_5000ms"}) {
      EXPECT_GT(entry.at(at).get<double>(), 0) << at;
    }
    if (runtime == "fiber/workers:1") {
      EXPECT_LT(entry.at("rss_bytes_at_5000ms").get<double>() - before, (peak - before) / 2);
      EXPECT_TRUE(entry.at("seconds_until_back").is_number());
      // The run's report: the trimmer gave back stacks and whole slabs of task blocks.
      EXPECT_GT(entry.at("stacks_decommitted").get<double>(), 0);
      EXPECT_GT(entry.at("task_blocks_decommitted").get<double>(), 0);
    } else {
      EXPECT_FALSE(entry.contains("task_blocks_decommitted")) << "only our runtime reports on its run";
    }
  }
}

TEST(ProbeMaxCount, TinyCapBinds) {
  for (const std::string& runtime : suite_runtimes()) {
    SCOPED_TRACE(runtime);
    const nlohmann::json entry =
        only_entry(run_program(kProbe, {"max_count", "--runtime", runtime, "--cap", "2000"}));
    EXPECT_EQ(entry.at("name"), "max_count/" + runtime);
    EXPECT_EQ(entry.at("label"), "bound:cap");
    EXPECT_EQ(entry.at("max_tasks"), 2000);
    EXPECT_GT(entry.at("bytes_per_task").get<double>(), 0);
    EXPECT_GT(entry.at("tasks_in_8GiB").get<double>(), 0);
    EXPECT_GT(entry.at("map_count").get<double>(), 0);
    EXPECT_GE(entry.at("seconds").get<double>(), 0);
  }
}

TEST(ProbeMaxCount, TinyBudgetBindsFirst) {
  const std::int64_t budget = 48 << 20;
  for (const std::string runtime : {"fiber/workers:1", "std_thread", "pthread/stack:64KiB",
                                    "boost_fiber/sched:round_robin/workers:1/alloc:default"}) {
    SCOPED_TRACE(runtime);
    const nlohmann::json entry = only_entry(
        run_program(kProbe, {"max_count", "--runtime", runtime, "--budget-bytes", std::to_string(budget)}));
    EXPECT_EQ(entry.at("label"), "bound:memory_budget");
    EXPECT_GT(entry.at("max_tasks").get<double>(), 0);
    EXPECT_LT(entry.at("max_tasks").get<double>() * entry.at("bytes_per_task").get<double>(), budget);
  }
}

TEST(ProbeExit, BadCommandLineExits2WithAMessage) {
  const std::vector<std::vector<std::string>> bad = {
      {"memory", "--runtime", "fiber/workers:1", "--n", "10", "--no-such-flag"},
      {"memory", "--runtime", "fiber/workers:1"},              // no --n
      {"memory", "--runtime", "fiber/workers:1", "--n", "0"},  // out of range
      {"memory", "--runtime", "no_such_runtime", "--n", "10"},
      {"memory", "--runtime", "fiber/workers:0", "--n", "10"},
      {"memory", "--runtime", "boost_fiber/sched:round_robin/workers:2/alloc:default", "--n", "10"},
      {"memory", "--runtime", "fiber/workers:1", "--n", "10", "--rep", "2", "--reps", "2"},
      {"memory", "--runtime", "fiber/workers:1", "--n", "10", "--depth-kib", "65"},
      {"memory", "--runtime", "pthread/stack:16KiB", "--n", "10", "--depth-kib", "8"},  // overflow
      {"memory", "--runtime", "pthread/stack:64KiB", "--n", "10", "--recursed-kib", "64"},
      {"memory", "--runtime", "fiber/workers:1", "--n", "10", "--recursed-kib", "65"},
      {"memory", "--runtime", "fiber/workers:1", "--n", "10", "--recursed-kib", "8", "--depth-kib", "8"},
      {"fly", "--runtime", "fiber/workers:1"},  // unknown workload
      {},                                       // no workload
  };
  for (const std::vector<std::string>& args : bad) {
    std::string command;
    for (const std::string& arg : args) command += arg + " ";
    SCOPED_TRACE(command);
    const ProgramResult r = run_program(kProbe, args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_FALSE(r.err.empty());
    EXPECT_TRUE(r.out.empty() || r.out.find("\"benchmarks\"") == std::string::npos);
  }
  const ProgramResult unknown = run_program(kProbe, {"memory", "--runtime", "no_such_runtime", "--n", "10"});
  EXPECT_NE(unknown.err.find("unknown runtime 'no_such_runtime'"), std::string::npos) << unknown.err;
}

TEST(ProbeExit, SizesBeyondTheLimitsExit3) {
  const ProgramResult threads =
      run_program(kProbe, {"memory", "--runtime", "std_thread", "--n", "100000000"});
  EXPECT_EQ(threads.exit_code, 3);
  EXPECT_NE(threads.err.find("threads cannot be alive at once"), std::string::npos) << threads.err;
  const ProgramResult fibers =
      run_program(kProbe, {"memory", "--runtime", "fiber/workers:1", "--n", "1000000000000"});
  EXPECT_EQ(fibers.exit_code, 3);
  EXPECT_NE(fibers.err.find("MemAvailable"), std::string::npos) << fibers.err;
}

TEST(ProbeExit, BuildInfoIsJson) { expect_build_info_json(kProbe); }

}  // namespace
}  // namespace greenbench::testing
