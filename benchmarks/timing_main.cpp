// timing_main.cpp: greenbench_timing, the suite's timing workloads (create, switch,
// skynet, pairs, fanin, fairness, blocking, gil), each registered for every runtime, in one
// Google Benchmark binary.
//
//   greenbench_timing [--list] [--build-info] [--sizes=full|smoke] [--workers=LIST] [--iterations=N]
//                     [Google Benchmark flags]
//     --list          print the selected entry names, one per line, and exit
//                     (--benchmark_filter applies; --benchmark_list_tests does the same)
//     --build-info    print {"compiler", "cxx_flags", "build_type"} as JSON and exit
//     --iterations=N  every entry runs exactly N iterations, without trial runs: how
//                     bench_all counts instructions under callgrind (timing_support.h's
//                     MeasuredPart marks what is counted)
//     --sizes=smoke   tiny sizes, for the suite's own tests: the n:N in the names differs
//                     from a full run's (fairness and blocking: their window:Wms), so
//                     smoke rows never compare with real ones
//                     (profiles must differ through Google Benchmark's flags only)
//     --workers=LIST  the worker counts of the scaling entries (issue 16: create
//                     mode:batch, skynet, pairs, fanin), e.g. 1,2,4; default
//                     scaling_worker_counts(): 1, 2, 4, ... below the usable CPUs, and the
//                     usable CPUs. M:N runtimes run on W workers (more than the CPUs:
//                     oversubscribed), OS threads are restricted to W CPUs by affinity
//                     (std_thread/cpus:W), for the W this machine has
//   --benchmark_filter matches the exact entry names (timing_entries.h);
//   --benchmark_out=FILE writes Google Benchmark's JSON under the exact names (the file
//   is always JSON: --benchmark_out_format is ignored); the display is always Google
//   Benchmark's console reporter (--benchmark_format is ignored).
//
// Exit status: 0 every selected entry ran; 1 an entry failed (a wrong count or sum, an
// exception: its JSON entry says error_occurred) or the filter selected nothing; 2 a bad
// command line. Google Benchmark's stock main would exit 0 in every one of these cases.
//
// Sizes: benchmarks/sizes.json (harness/suite_sizes.h), the one place they are written.
// In the full set OS threads create and run skynet at n:10000 (11,111 threads: the
// largest tree pid_max allows here) and fibers at n:10000 and more, so every runtime has
// a row at n:10000; fairness and blocking measure a window per iteration (window:Wms),
// with hogs:K at K = W and 2W (W: an M:N runtime's workers, the usable CPUs for OS
// threads) and blockers:B at B = 0, C and 2C (C: the usable CPUs) for every runtime. M:N
// runtimes run on 1 worker and on all usable CPUs, and the scaling entries at every count
// of --workers. Boost.Fiber's work_stealing entries need a process of
// their own (boost_fiber_runtime.h): the driver runs every entry in its own process.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "harness/build_info.h"
#include "harness/cpu_affinity.h"
#include "harness/entry_name.h"
#include "harness/suite_sizes.h"
#include "harness/timing_entries.h"
#include "tasks/cpu_restricted_runtime.h"
#include "tasks/runtime_set.h"
#include "workloads/workload_blocking.h"
#include "workloads/workload_create.h"
#include "workloads/workload_fairness.h"
#include "workloads/workload_gil.h"
#include "workloads/workload_parallel.h"
#include "workloads/workload_skynet.h"
#include "workloads/workload_switch.h"

namespace greenbench {
namespace {

// The thread rows of a scaling entry: each OS-thread runtime restricted to W CPUs by
// affinity, for every W of `workers` that this machine has CPUs for.
template <class Visit>
void for_each_cpu_restricted_runtime(const std::vector<unsigned>& workers, Visit&& visit) {
  const std::size_t usable = allowed_cpus().size();
  for (unsigned cpus : workers) {
    if (cpus > usable) continue;
    for_each_os_thread_runtime([&](const auto& rt) { visit(CpuRestrictedRuntime{rt, cpus}); });
  }
}

void register_create(TimingEntries& entries, const SuiteSizes& sizes,
                     const std::vector<unsigned>& scaling_workers) {
  const auto add = [&](const auto& rt, CreateMode mode, std::int64_t n) {
    entries.add(entry_name("create", rt.prefix(),
                           {std::string("mode:") + create_mode_name(mode), "n:" + std::to_string(n)}),
                [rt, mode, n](benchmark::State& state) { create_workload(state, rt, mode, n); });
  };
  for_each_os_thread_runtime([&](const auto& rt) {
    for (std::int64_t n : sizes.thread_create_n) {
      for (CreateMode mode : {CreateMode::sequential, CreateMode::batch}) add(rt, mode, n);
    }
  });
  for_each_cpu_restricted_runtime(scaling_workers, [&](const auto& rt) {
    for (std::int64_t n : sizes.thread_create_n) add(rt, CreateMode::batch, n);
  });
  // Sequential creation runs one task at a time: it is measured at 1 worker and at all
  // cores; a batch at every worker count of the scaling list.
  for (unsigned workers : suite_worker_counts()) {
    for_each_m_to_n_runtime(workers, [&](const auto& rt) {
      for (std::int64_t n : sizes.fiber_create_n) add(rt, CreateMode::sequential, n);
    });
  }
  for (unsigned workers : scaling_workers) {
    for_each_m_to_n_runtime(workers, [&](const auto& rt) {
      for (std::int64_t n : sizes.fiber_create_n) add(rt, CreateMode::batch, n);
    });
  }
}

void register_switch(TimingEntries& entries, const SuiteSizes& sizes) {
  const unsigned usable = static_cast<unsigned>(allowed_cpus().size());
  for (unsigned cpus : {1u, 2u}) {
    if (cpus > usable) continue;
    const auto add = [&](const auto& rt) {
      for (SwitchVia via : {SwitchVia::yield, SwitchVia::handoff}) {
        if (via == SwitchVia::yield && cpus != 1) continue;  // workload_switch.h: yield is cpus:1 only
        entries.add(entry_name("switch", rt.prefix(),
                               {std::string("via:") + switch_via_name(via), "cpus:" + std::to_string(cpus)}),
                    [rt, via, cpus, switches = sizes.switches_per_iteration](benchmark::State& state) {
                      switch_workload(state, rt, via, cpus, switches);
                    });
      }
    };
    for_each_os_thread_runtime(add);
    for_each_m_to_n_runtime(cpus, add);
  }
  // Hand-offs between pinned tasks (workload_switch.h), at two workers.
  if (usable < 2) return;
  for_each_m_to_n_runtime(2, [&](const auto& rt) {
    if constexpr (PlacingRuntime<std::decay_t<decltype(rt)>>) {
      for (SwitchPlace place : {SwitchPlace::same, SwitchPlace::cross}) {
        entries.add(entry_name("switch", rt.prefix(),
                               {"via:handoff", std::string("place:") + switch_place_name(place), "cpus:2"}),
                    [rt, place, switches = sizes.switches_per_iteration](benchmark::State& state) {
                      switch_workload(state, rt, SwitchVia::handoff, 2, switches, place);
                    });
      }
    }
  });
}

void register_skynet(TimingEntries& entries, const SuiteSizes& sizes,
                     const std::vector<unsigned>& scaling_workers) {
  const auto add = [&](const auto& rt, std::int64_t n) {
    for (SkynetVia via : {SkynetVia::join, SkynetVia::channel}) {
      entries.add(entry_name("skynet", rt.prefix(),
                             {std::string("via:") + skynet_via_name(via), "n:" + std::to_string(n)}),
                  [rt, n, via](benchmark::State& state) { skynet_workload(state, rt, n, via); });
    }
  };
  for_each_os_thread_runtime([&](const auto& rt) {
    for (std::int64_t n : sizes.thread_skynet_n) add(rt, n);
  });
  for_each_cpu_restricted_runtime(scaling_workers, [&](const auto& rt) {
    for (std::int64_t n : sizes.thread_skynet_n) add(rt, n);
  });
  for (unsigned workers : scaling_workers) {
    for_each_m_to_n_runtime(workers, [&](const auto& rt) {
      for (std::int64_t n : sizes.fiber_skynet_n) add(rt, n);
    });
  }
}

// pairs and fanin (workload_parallel.h): P = W pairs or producers at every W of the
// scaling list, n = the switch workload's one-way switches per iteration.
void register_parallel(TimingEntries& entries, const SuiteSizes& sizes,
                       const std::vector<unsigned>& scaling_workers) {
  const std::int64_t n = sizes.switches_per_iteration;
  for (ParallelWorkload workload : {ParallelWorkload::pairs, ParallelWorkload::fanin}) {
    const auto add = [&](const auto& rt, unsigned p) {
      entries.add(
          entry_name(parallel_workload_name(workload), rt.prefix(), {"n:" + std::to_string(n)}),
          [rt, workload, p, n](benchmark::State& state) { parallel_workload(state, rt, workload, p, n); });
    };
    for_each_cpu_restricted_runtime(scaling_workers, [&](const auto& rt) { add(rt, rt.cpus()); });
    for (unsigned workers : scaling_workers) {
      for_each_m_to_n_runtime(workers, [&](const auto& rt) { add(rt, workers); });
    }
  }
}

// fairness and blocking name their window, so smoke rows (20 ms) never compare with real ones.
std::string window_param(std::chrono::milliseconds window) {
  return "window:" + std::to_string(window.count()) + "ms";
}

void register_fairness(TimingEntries& entries, const SuiteSizes& sizes) {
  const std::chrono::milliseconds window(sizes.window_ms);
  const unsigned usable = static_cast<unsigned>(allowed_cpus().size());
  const auto add = [&](const auto& rt) {
    using RT = std::decay_t<decltype(rt)>;
    const unsigned w = RT::kind == TaskKind::os_thread ? usable : rt.workers();
    for (HogVia via : {HogVia::spin, HogVia::maybe_yield}) {
      if (via == HogVia::maybe_yield && !HasMaybeYield<RT>) continue;
      for (int hogs : {static_cast<int>(w), static_cast<int>(2 * w)}) {
        entries.add(entry_name("fairness", rt.prefix(),
                               {std::string("via:") + hog_via_name(via), "hogs:" + std::to_string(hogs),
                                window_param(window)}),
                    [rt, hogs, via, window](benchmark::State& state) {
                      fairness_workload(state, rt, hogs, via, window);
                    });
      }
    }
  };
  for_each_os_thread_runtime(add);
  for (unsigned workers : suite_worker_counts()) for_each_m_to_n_runtime(workers, add);
}

void register_blocking(TimingEntries& entries, const SuiteSizes& sizes) {
  const std::chrono::milliseconds window(sizes.window_ms);
  const int usable = static_cast<int>(allowed_cpus().size());
  const auto add = [&](const auto& rt) {
    using RT = std::decay_t<decltype(rt)>;
    for (BlockingCall call : {BlockingCall::read, BlockingCall::nanosleep, BlockingCall::fsync}) {
      for (BlockingVia via : {BlockingVia::direct, BlockingVia::blocking}) {
        if (via == BlockingVia::blocking && !HasBlocking<RT>) continue;
        for (int blockers : {0, usable, 2 * usable}) {
          if (via == BlockingVia::blocking && blockers == 0) continue;  // the same as direct
          entries.add(entry_name("blocking", rt.prefix(),
                                 {std::string("call:") + blocking_call_name(call),
                                  std::string("via:") + blocking_via_name(via),
                                  "blockers:" + std::to_string(blockers), window_param(window)}),
                      [rt, call, blockers, via, window](benchmark::State& state) {
                        blocking_workload(state, rt, call, blockers, via, window);
                      });
        }
      }
    }
  };
  for_each_os_thread_runtime(add);
  for (unsigned workers : suite_worker_counts()) for_each_m_to_n_runtime(workers, add);
}

void register_gil(TimingEntries& entries) {
  for (unsigned workers : gil_workers()) {
    const FiberRuntime rt{workers};
    entries.add(entry_name("gil", rt.prefix(), {"job:cpu"}),
                [rt, workers](benchmark::State& state) { gil_workload(state, rt, workers); });
  }
}

void print_usage() {
  std::printf(
      "greenbench_timing: the suite's timing workloads (create, switch, skynet, pairs, fanin, fairness, "
      "blocking, gil) for every runtime\n"
      "  --list          print the entry names --benchmark_filter selects, one per line\n"
      "  --build-info    print how this binary was built, as JSON\n"
      "  --sizes=smoke   tiny sizes for the suite's own tests (default --sizes=full)\n"
      "  --workers=LIST  worker counts of the scaling entries (create mode:batch, skynet,\n"
      "                  pairs, fanin), e.g. 1,2,4 (default: 1, 2, 4, ... below the usable\n"
      "                  CPUs, and them)\n"
      "  --iterations=N  run exactly N iterations of each entry (no trial runs)\n"
      "Exit status: 0 all ran, 1 an entry failed or none was selected, 2 bad command line.\n\n"
      "Google Benchmark's flags (--benchmark_filter matches the exact entry names):\n");
  benchmark::PrintDefaultHelp();
}

int timing_main(int argc, char** argv) {
  bool list = false;
  bool show_build_info = false;
  bool file_output = false;
  bool tabular = false;
  std::string size_set = "full";
  std::vector<unsigned> scaling_workers = scaling_worker_counts();
  std::int64_t iterations = 0;
  std::vector<char*> passed{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--list" || arg == "--benchmark_list_tests" || arg == "--benchmark_list_tests=true") {
      list = true;
    } else if (arg == "--build-info") {
      show_build_info = true;
    } else if (arg == "--sizes=full" || arg == "--sizes=smoke") {
      size_set = arg.substr(8);
    } else if (arg.substr(0, 8) == "--sizes=") {
      std::cerr << "greenbench_timing: --sizes takes full or smoke, not " << arg.substr(8) << '\n';
      return 2;
    } else if (arg.substr(0, 10) == "--workers=") {
      const auto counts = parse_worker_counts(arg.substr(10));
      if (!counts) {
        std::cerr << "greenbench_timing: --workers takes distinct counts from 1 to 1024, "
                     "e.g. 1,2,4, not "
                  << arg.substr(10) << '\n';
        return 2;
      }
      scaling_workers = *counts;
    } else if (arg.substr(0, 13) == "--iterations=") {
      const std::string_view count = arg.substr(13);
      const auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), iterations);
      if (error != std::errc() || end != count.data() + count.size() || iterations < 1) {
        std::cerr << "greenbench_timing: --iterations takes a positive count, not " << count << '\n';
        return 2;
      }
    } else {
      // Flags of Google Benchmark's that decide how our reporters are set up: noted here,
      // then passed on, since Google Benchmark offers no way to read them back.
      constexpr std::string_view out_flag = "--benchmark_out=";
      if (arg.size() > out_flag.size() && arg.substr(0, out_flag.size()) == out_flag) file_output = true;
      if (arg == "--benchmark_counters_tabular" || arg == "--benchmark_counters_tabular=true") tabular = true;
      passed.push_back(argv[i]);
    }
  }
  int passed_count = static_cast<int>(passed.size());
  passed.push_back(nullptr);
  benchmark::Initialize(&passed_count, passed.data(), print_usage);
  if (benchmark::ReportUnrecognizedArguments(passed_count, passed.data())) return 2;
  if (show_build_info) {
    std::cout << build_info().dump(2) << '\n';
    return 0;
  }

  const SuiteSizes sizes = suite_sizes(size_set);
  TimingEntries entries(iterations);
  register_create(entries, sizes, scaling_workers);
  register_switch(entries, sizes);
  register_skynet(entries, sizes, scaling_workers);
  register_parallel(entries, sizes, scaling_workers);
  register_fairness(entries, sizes);
  register_blocking(entries, sizes);
  register_gil(entries);

  const std::string filter = benchmark::GetBenchmarkFilter();
  std::vector<std::string> selected;
  try {
    selected = entries.matching(filter);
  } catch (const std::invalid_argument& error) {
    std::cerr << "greenbench_timing: " << error.what() << '\n';
    return 2;
  }
  if (selected.empty()) {
    std::cerr << "greenbench_timing: --benchmark_filter=" << filter
              << " selects no entry (--list shows them all)\n";
    return 1;
  }
  if (list) {
    for (const std::string& name : selected) std::cout << name << '\n';
    return 0;
  }

  // Google Benchmark's defaults: colour on a terminal, counters tabular when asked.
  int options =
      ::isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Color : benchmark::ConsoleReporter::OO_None;
  if (tabular) options |= benchmark::ConsoleReporter::OO_Tabular;
  EntryNameReporter<benchmark::ConsoleReporter> display(
      static_cast<benchmark::ConsoleReporter::OutputOptions>(options));
  EntryNameReporter<benchmark::JSONReporter> file;
  benchmark::RunSpecifiedBenchmarks(&display, file_output ? &file : nullptr, entries.run_spec(selected));
  benchmark::Shutdown();
  if (display.failed() > 0) {
    std::cerr << "greenbench_timing: " << display.failed() << " run(s) failed (see error_message)\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace greenbench

int main(int argc, char** argv) { return greenbench::timing_main(argc, argv); }
