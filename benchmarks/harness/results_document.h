// results_document.h: the probe's output, one results document (docs/results-format.md):
// a context (Google Benchmark's keys that apply outside Google Benchmark, plus
// context.greenbench) and "iteration" entries; the driver adds aggregates.
//
// Invariant: an entry's keys come out in Google Benchmark's order, counters are top-level
// numbers, integral values are written as integers and a non-finite value as the bare
// token NaN (as Google Benchmark writes it, which nlohmann::json would turn into null).
#pragma once

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace greenbench {

struct IterationEntry {
  std::string name;
  int repetitions = 1;
  int repetition_index = 0;
  std::int64_t iterations = 1;
  double real_time = 0;   // wall time of the measured part, in time_unit per iteration
  double cpu_time = NAN;  // CPU time over the same part, measured (never a copy of real_time)
  std::string time_unit = "ns";
  std::string label;  // omitted when empty
  std::vector<std::pair<std::string, double>> counters;
};

// The context of this run of the probe (`executable`: its argv[0]), now, on this machine.
nlohmann::ordered_json results_context(const std::string& executable,
                                       const std::vector<std::string>& warnings);

// {"context": ..., "benchmarks": [entries...]} as text.
std::string results_document(const nlohmann::ordered_json& context,
                             const std::vector<IterationEntry>& entries);

}  // namespace greenbench
