// timing_entries.h: the timing binary's entries under their exact results-format names
// (docs/results-format.md, Names), and the reporters that keep them exact.
//
// Google Benchmark appends per-benchmark settings to the names it reports and matches
// ("/manual_time", "/process_time", "/iterations:N", "/repeats:N", "/min_time:...",
// "/threads:N"), so a setting in code would change an entry's name. Here every entry is
// registered under its exact name; EntryNameReporter strips those pieces from run_name
// before anything is printed or written, --list prints the exact names, and
// --benchmark_filter is matched against the exact names, with Google Benchmark's own
// semantics (std::regex extended syntax, searched; a leading '-' negates; "" and "all"
// select everything), then handed to Google Benchmark as a filter that runs exactly those.
//
// Invariant: no entry name is a '/'-prefix of another (add() refuses it), so the filter
// "^(name|...)(/|$)" that run_spec() builds selects exactly the named entries whatever
// settings Google Benchmark has appended.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace greenbench {

class TimingEntries {
 public:
  // `iterations` > 0: every entry runs exactly that many iterations, no more, with no
  // trial runs (for counting instructions: a count divided by its iterations); 0: Google
  // Benchmark grows the count to --benchmark_min_time.
  explicit TimingEntries(std::int64_t iterations = 0) : iterations_(iterations) {}

  // Registers `run` with Google Benchmark under `name`, with the settings every timing
  // entry shares: iteration time measured by the workload (UseManualTime), process CPU
  // time as cpu_time (worker threads included), milliseconds. Throws std::logic_error for
  // a duplicate name or one that is a '/'-prefix of another.
  void add(const std::string& name, std::function<void(benchmark::State&)> run);

  // The names --benchmark_filter selects, in registration order; throws
  // std::invalid_argument for a filter that is not a valid regular expression.
  std::vector<std::string> matching(const std::string& filter) const;

  // A Google Benchmark filter that runs exactly `selected` (names of this registry).
  std::string run_spec(const std::vector<std::string>& selected) const;

 private:
  std::int64_t iterations_;
  std::vector<std::string> names_;
};

// `name` without the settings Google Benchmark appends (function name and args only).
benchmark::BenchmarkName without_settings(const benchmark::BenchmarkName& name);

// A reporter (ConsoleReporter, JSONReporter) that reports runs under their exact names,
// and counts the runs that failed.
template <class Base>
class EntryNameReporter : public Base {
 public:
  using Base::Base;

  void ReportRuns(const std::vector<benchmark::BenchmarkReporter::Run>& runs) override {
    std::vector<benchmark::BenchmarkReporter::Run> renamed = runs;
    for (auto& run : renamed) {
      run.run_name = without_settings(run.run_name);
      if (run.error_occurred) ++failed_;
    }
    Base::ReportRuns(renamed);
  }

  int failed() const { return failed_; }

 private:
  int failed_ = 0;
};

}  // namespace greenbench
