// timing_test.cpp: greenbench_timing run as the driver runs it, at --sizes=smoke: the
// names --list prints, the JSON --benchmark_out writes (names, keys, counters), the work
// every entry checks (tasks, sums, switches), and the exit status of each way to fail.
//
// Invariant: Boost.Fiber's work_stealing entries always run in a process of their own
// (they fix the process's scheduler), as the driver runs them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "suite_programs.h"

namespace greenbench::testing {
namespace {

const std::string& kTiming = kTimingProgram;

std::vector<std::string> listed(const std::vector<std::string>& extra_args) {
  std::vector<std::string> args{"--list"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  const ProgramResult r = run_program(kTiming, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return output_lines(r.out);
}

// The n:N parameter of an entry name.
std::int64_t n_of(const std::string& name) {
  std::smatch match;
  EXPECT_TRUE(std::regex_search(name, match, std::regex("/n:([0-9]+)$"))) << name;
  return std::stoll(match[1]);
}

// Runs the smoke-size entries `filter` selects, once each, and returns the file's entries
// after checking what every entry must have.
std::vector<nlohmann::json> run_smoke(const std::string& filter) {
  const TempFile out;
  const ProgramResult r =
      run_program(kTiming, {"--sizes=smoke", "--benchmark_min_time=0", "--benchmark_filter=" + filter,
                            "--benchmark_out=" + out.path()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(out.text());  // throws on NaN or a truncated file
  EXPECT_TRUE(doc.at("context").is_object());
  const std::vector<std::string> expected = listed({"--sizes=smoke", "--benchmark_filter=" + filter});
  std::vector<std::string> names;
  for (const nlohmann::json& entry : doc.at("benchmarks")) {
    names.push_back(entry.at("name"));
    EXPECT_EQ(entry.at("run_name"), entry.at("name"));
    EXPECT_EQ(entry.at("run_type"), "iteration");
    EXPECT_FALSE(entry.value("error_occurred", false)) << entry.dump();
    for (const char* key :
         {"repetitions", "repetition_index", "threads", "iterations", "real_time", "cpu_time"}) {
      EXPECT_TRUE(entry.at(key).is_number()) << key << " in " << entry.dump();
    }
    EXPECT_EQ(entry.at("time_unit"), "ms");
    EXPECT_GT(entry.at("real_time").get<double>(), 0);
  }
  EXPECT_EQ(names, expected) << "the file should hold exactly the listed entries, in order";
  return doc.at("benchmarks").get<std::vector<nlohmann::json>>();
}

// Every entry of `workload`: OS threads, our fibers and Boost.Fiber round_robin in one
// process, Boost.Fiber work_stealing in another.
std::vector<nlohmann::json> run_workload(const std::string& workload) {
  std::vector<nlohmann::json> entries =
      run_smoke("^" + workload + "/(std_thread|pthread|fiber|boost_fiber/sched:round_robin)/");
  for (nlohmann::json& entry : run_smoke("^" + workload + "/boost_fiber/sched:work_stealing/")) {
    entries.push_back(std::move(entry));
  }
  return entries;
}

// The runtime prefix of an entry name: between the workload and the first workload
// parameter, less the CPU restriction of a scaling entry's thread rows (cpus:C), so that
// it is one of the probe's --list-runtimes.
std::string runtime_of(const std::string& name, const std::string& first_workload_param) {
  const std::size_t begin = name.find('/') + 1;
  const std::string prefix = name.substr(begin, name.find("/" + first_workload_param) - begin);
  return std::regex_replace(prefix, std::regex("/cpus:[0-9]+$"), "");
}

TEST(TimingList, NamesAreExactAndUnique) {
  const std::vector<std::string> names = listed({});
  ASSERT_FALSE(names.empty());
  const std::regex grammar(
      R"(^(create|switch|skynet|pairs|fanin|fairness|blocking|gil)/(fiber|std_thread|pthread|boost_fiber)(/[a-z_]+:[A-Za-z0-9_]+)*$)");
  std::set<std::string> unique;
  for (const std::string& name : names) {
    EXPECT_TRUE(std::regex_match(name, grammar)) << name;
    EXPECT_EQ(name.find("manual_time"), std::string::npos) << name;
    EXPECT_TRUE(unique.insert(name).second) << "listed twice: " << name;
  }
  for (const char* expected :
       {"create/std_thread/mode:sequential/n:10000", "create/pthread/stack:64KiB/mode:batch/n:10000",
        "create/fiber/workers:1/mode:sequential/n:100000",
        "create/boost_fiber/sched:round_robin/workers:1/alloc:pooled/mode:batch/n:100000",
        "switch/fiber/workers:1/via:yield/cpus:1", "switch/std_thread/via:handoff/cpus:1",
        "skynet/fiber/workers:1/via:join/n:1000000", "skynet/fiber/workers:1/via:channel/n:1000000",
        "skynet/boost_fiber/sched:round_robin/workers:1/alloc:default/via:channel/n:1000000",
        "skynet/std_thread/via:join/n:10000", "skynet/pthread/stack:64KiB/via:channel/n:10000",
        "fairness/fiber/workers:1/via:spin/hogs:1/window:200ms",
        "fairness/fiber/workers:1/via:maybe_yield/hogs:2/window:200ms",
        "blocking/fiber/workers:1/call:nanosleep/via:direct/blockers:0/window:200ms",
        "blocking/boost_fiber/sched:round_robin/workers:1/alloc:pooled/call:fsync/via:direct/blockers:0/"
        "window:200ms",
        "gil/fiber/workers:1/job:cpu", "gil/fiber/workers:2/job:cpu"}) {
    EXPECT_TRUE(unique.count(expected)) << "missing " << expected;
  }
}

TEST(TimingList, HonoursTheFilterOnExactNames) {
  const std::vector<std::string> skynet =
      listed({"--benchmark_filter=^skynet/fiber/workers:1/via:join/n:1000000$"});
  EXPECT_EQ(skynet, std::vector<std::string>{"skynet/fiber/workers:1/via:join/n:1000000"});
  for (const std::string& name :
       listed({"--benchmark_filter=-^(create|switch|skynet|pairs|fanin|fairness|blocking)/"})) {
    EXPECT_EQ(name.rfind("gil/", 0), 0u) << name;
  }
  const ProgramResult gb_flag = run_program(kTiming, {"--benchmark_list_tests", "--benchmark_filter=^gil/"});
  EXPECT_EQ(gb_flag.exit_code, 0);
  EXPECT_EQ(output_lines(gb_flag.out), listed({"--benchmark_filter=^gil/"}));
}

TEST(TimingRun, CreateCountsEveryTask) {
  const std::vector<nlohmann::json> entries = run_workload("create");
  ASSERT_FALSE(entries.empty());
  std::set<std::string> runtimes;
  for (const nlohmann::json& entry : entries) {
    const std::string name = entry.at("name");
    EXPECT_EQ(entry.at("tasks").get<double>(), n_of(name)) << name;
    EXPECT_GT(entry.at("ns_per_task").get<double>(), 0) << name;
    EXPECT_GT(entry.at("peak_rss_bytes").get<double>(), 0) << name;
    // A batch holds all N live at once (parked on its gate); sequential one at a time.
    const bool batch = name.find("/mode:batch/") != std::string::npos;
    EXPECT_EQ(entry.at("peak_live_tasks").get<double>(), batch ? n_of(name) : 1) << name;
    if (name.rfind("create/fiber/", 0) == 0) {
      EXPECT_GE(entry.at("stacks_peak_in_use").get<double>(), batch ? n_of(name) : 1) << name;
      EXPECT_TRUE(entry.at("stack_guard").is_number()) << name;
    }
    runtimes.insert(runtime_of(name, "mode:"));
  }
  const std::vector<std::string> suite = suite_runtimes();
  EXPECT_EQ(runtimes, std::set<std::string>(suite.begin(), suite.end()));
}

TEST(TimingRun, SkynetSumIsRightForEveryRuntimeBothWays) {
  const std::vector<nlohmann::json> entries = run_workload("skynet");
  std::set<std::string> runtimes;
  std::set<std::string> vias;
  for (const nlohmann::json& entry : entries) {
    const std::string name = entry.at("name");
    const std::int64_t n = n_of(name);
    EXPECT_EQ(entry.at("sum").get<double>(), static_cast<double>(n * (n - 1) / 2)) << name;
    EXPECT_EQ(entry.at("tasks").get<double>(), static_cast<double>((10 * n - 1) / 9)) << name;
    EXPECT_GT(entry.at("ms_wall").get<double>(), 0) << name;
    EXPECT_GT(entry.at("ns_per_task").get<double>(), 0) << name;
    EXPECT_GT(entry.at("peak_rss_bytes").get<double>(), 0) << name;
    // At least the root and one chain down to a leaf; at most the whole tree.
    const double live = entry.at("peak_live_tasks").get<double>();
    EXPECT_GE(live, 1 + std::log10(static_cast<double>(n))) << name;
    EXPECT_LE(live, static_cast<double>((10 * n - 1) / 9)) << name;
    if (name.rfind("skynet/fiber/", 0) == 0) {
      EXPECT_GE(entry.at("stacks_peak_in_use").get<double>(), 1) << name;
    }
    runtimes.insert(runtime_of(name, "via:"));
    vias.insert(name.substr(name.find("via:"), name.find("/n:") - name.find("via:")));
  }
  const std::vector<std::string> suite = suite_runtimes();
  EXPECT_EQ(runtimes, std::set<std::string>(suite.begin(), suite.end()));
  EXPECT_EQ(vias, (std::set<std::string>{"via:channel", "via:join"}));
}

// pairs and fanin at 1 and 2 workers (and CPUs where there are two): every hand-off and
// message counted, on every runtime of the suite.
TEST(TimingRun, PairsAndFaninCountEveryHandOffAndMessage) {
  std::vector<nlohmann::json> entries;
  for (const char* workload : {"pairs", "fanin"}) {
    for (nlohmann::json& entry : run_workload(workload)) entries.push_back(std::move(entry));
  }
  std::set<std::string> runtimes;
  for (const nlohmann::json& entry : entries) {
    const std::string name = entry.at("name");
    const bool pairs = name.rfind("pairs/", 0) == 0;
    const double done = entry.at(pairs ? "switches" : "messages").get<double>();
    // n:2000 (smoke) split over P = W pairs or producers of the entry: all of it.
    EXPECT_EQ(done, static_cast<double>(n_of(name))) << name;
    EXPECT_GT(entry.at(pairs ? "ns_per_switch" : "ns_per_message").get<double>(), 0) << name;
    EXPECT_GE(entry.at("cpu_ns_per_op").get<double>(), 0) << name;
    runtimes.insert(runtime_of(name, "n:"));
  }
  const std::vector<std::string> suite = suite_runtimes();
  EXPECT_EQ(runtimes, std::set<std::string>(suite.begin(), suite.end()));
}

TEST(TimingRun, SwitchCountsEverySwitch) {
  const std::vector<nlohmann::json> entries = run_workload("switch");
  ASSERT_FALSE(entries.empty());
  for (const nlohmann::json& entry : entries) {
    const std::string name = entry.at("name");
    EXPECT_EQ(entry.at("switches").get<double>(), 2000) << name;
    EXPECT_GT(entry.at("ns_per_switch").get<double>(), 0) << name;
    EXPECT_TRUE(name.find("via:yield") == std::string::npos || name.find("cpus:1") != std::string::npos)
        << name;
  }
}

TEST(TimingRun, FairnessAccountsForEveryTickOfTheWindow) {
  const std::vector<nlohmann::json> entries = run_workload("fairness");
  ASSERT_FALSE(entries.empty());
  std::set<std::string> vias;
  for (const nlohmann::json& entry : entries) {
    const std::string name = entry.at("name");
    vias.insert(name.substr(name.find("/via:") + 1, name.find("/hogs:") - name.find("/via:") - 1));
    EXPECT_EQ(entry.at("ticks_expected").get<double>(), 20) << name;  // smoke: a 20 ms window
    EXPECT_EQ(entry.at("ticks").get<double>() + entry.at("ticks_missed").get<double>(), 20) << name;
    EXPECT_GE(entry.at("ticks").get<double>(), 1) << name;
    EXPECT_LE(entry.at("lateness_p50_us").get<double>(), entry.at("lateness_p99_us").get<double>()) << name;
    EXPECT_LE(entry.at("lateness_p99_us").get<double>(), entry.at("lateness_max_us").get<double>()) << name;
    EXPECT_GE(entry.at("lateness_p50_us").get<double>(), 0) << name;
    EXPECT_GT(entry.at("hog_work_per_second").get<double>(), 0) << name;
  }
  EXPECT_EQ(vias, (std::set<std::string>{"via:spin", "via:maybe_yield"}));
}

TEST(TimingRun, BlockingTimesThePairAndEveryBlockerCalls) {
  const std::vector<nlohmann::json> entries = run_workload("blocking");
  ASSERT_FALSE(entries.empty());
  std::set<std::string> calls;
  for (const nlohmann::json& entry : entries) {
    const std::string name = entry.at("name");
    calls.insert(name.substr(name.find("/call:") + 1, name.find("/via:") - name.find("/call:") - 1));
    EXPECT_GT(entry.at("round_trips_per_second").get<double>(), 0) << name;
    EXPECT_LE(entry.at("round_trip_p50_us").get<double>(), entry.at("round_trip_p99_us").get<double>())
        << name;
    EXPECT_LE(entry.at("round_trip_p99_us").get<double>(), entry.at("round_trip_max_us").get<double>())
        << name;
    const bool none = name.find("/blockers:0/") != std::string::npos;
    if (none) {
      EXPECT_EQ(entry.at("blocking_calls_per_second").get<double>(), 0) << name;
    } else {
      EXPECT_GT(entry.at("blocking_calls_per_second").get<double>(), 0) << name;
    }
  }
  EXPECT_EQ(calls, (std::set<std::string>{"call:read", "call:nanosleep", "call:fsync"}));
}

TEST(TimingRun, GilReportsSecondsAndSpeedup) {
  const std::vector<nlohmann::json> entries = run_smoke("^gil/");
  ASSERT_EQ(entries.size(), 2u);
  for (const nlohmann::json& entry : entries) {
    EXPECT_GT(entry.at("seconds").get<double>(), 0);
    EXPECT_GT(entry.at("speedup").get<double>(), 0);
  }
  EXPECT_EQ(entries[0].at("speedup").get<double>(), 1.0);  // workers:1 is its own reference
}

TEST(TimingRun, RepetitionsKeepExactNamesInAggregates) {
  const TempFile out;
  const std::string name = "switch/fiber/workers:1/via:yield/cpus:1";
  const ProgramResult r =
      run_program(kTiming, {"--sizes=smoke", "--benchmark_min_time=0", "--benchmark_repetitions=3",
                            "--benchmark_filter=^" + name + "$", "--benchmark_out=" + out.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Google Benchmark writes a bare NaN for the cv of a counter whose mean is 0 (a fiber
  // switch makes no kernel context switch); this test reads names, so NaN may be null.
  const nlohmann::json doc =
      nlohmann::json::parse(std::regex_replace(out.text(), std::regex(R"((:\s*)NaN\b)"), "$1null"));
  std::set<std::string> aggregates;
  int iterations = 0;
  for (const nlohmann::json& entry : doc.at("benchmarks")) {
    EXPECT_EQ(entry.at("run_name"), name);
    if (entry.at("run_type") == "iteration") {
      EXPECT_EQ(entry.at("name"), name);
      EXPECT_EQ(entry.at("repetition_index"), iterations++);
    } else {
      const std::string aggregate = entry.at("aggregate_name");
      EXPECT_EQ(entry.at("name"), name + "_" + aggregate);
      EXPECT_TRUE(entry.contains("ns_per_switch")) << entry.dump();
      aggregates.insert(aggregate);
    }
  }
  EXPECT_EQ(iterations, 3);
  EXPECT_EQ(aggregates, (std::set<std::string>{"mean", "median", "stddev", "cv"}));
}

TEST(TimingExit, FilterSelectingNothingFails) {
  const ProgramResult r = run_program(kTiming, {"--benchmark_filter=^no_such_workload/"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("selects no entry"), std::string::npos) << r.err;
}

TEST(TimingExit, BadCommandLineExits2) {
  const ProgramResult unknown = run_program(kTiming, {"--no_such_flag"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("--no_such_flag"), std::string::npos) << unknown.err;
  EXPECT_EQ(run_program(kTiming, {"--benchmark_filter=("}).exit_code, 2);
  EXPECT_EQ(run_program(kTiming, {"--sizes=huge"}).exit_code, 2);
}

TEST(TimingExit, BuildInfoIsJson) { expect_build_info_json(kTiming); }

}  // namespace
}  // namespace greenbench::testing
