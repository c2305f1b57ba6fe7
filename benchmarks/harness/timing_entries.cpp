// timing_entries.cpp: registering entries under exact names and selecting them with
// --benchmark_filter (see timing_entries.h).
#include "harness/timing_entries.h"

#include <regex>
#include <stdexcept>

namespace greenbench {
namespace {

bool is_path_prefix(const std::string& prefix, const std::string& name) {
  return name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
         name[prefix.size()] == '/';
}

std::string regex_escaped(const std::string& text) {
  static const std::string special = R"(.[]{}()\*+?^$|)";
  std::string escaped;
  for (char c : text) {
    if (special.find(c) != std::string::npos) escaped += '\\';
    escaped += c;
  }
  return escaped;
}

}  // namespace

void TimingEntries::add(const std::string& name, std::function<void(benchmark::State&)> run) {
  for (const std::string& other : names_) {
    if (other == name || is_path_prefix(other, name) || is_path_prefix(name, other)) {
      throw std::logic_error("timing entries " + other + " and " + name + " cannot both be registered");
    }
  }
  names_.push_back(name);
  benchmark::internal::Benchmark* entry = benchmark::RegisterBenchmark(name.c_str(), std::move(run))
                                              ->UseManualTime()
                                              ->MeasureProcessCPUTime()
                                              ->Unit(benchmark::kMillisecond);
  if (iterations_ > 0) entry->Iterations(iterations_);
}

std::vector<std::string> TimingEntries::matching(const std::string& filter) const {
  std::string pattern = filter;
  const bool negative = !pattern.empty() && pattern[0] == '-';
  if (negative) pattern.erase(0, 1);
  if (pattern.empty() || pattern == "all") pattern = ".";
  std::regex re;
  try {
    re = std::regex(pattern, std::regex::extended);
  } catch (const std::regex_error& error) {
    throw std::invalid_argument("--benchmark_filter=" + filter +
                                " is not a regular expression: " + error.what());
  }
  std::vector<std::string> selected;
  for (const std::string& name : names_) {
    if (std::regex_search(name, re) != negative) selected.push_back(name);
  }
  return selected;
}

std::string TimingEntries::run_spec(const std::vector<std::string>& selected) const {
  if (selected.size() == names_.size()) return ".";
  std::string spec = "^(";
  for (std::size_t i = 0; i < selected.size(); ++i) spec += (i ? "|" : "") + regex_escaped(selected[i]);
  return spec + ")(/|$)";
}

benchmark::BenchmarkName without_settings(const benchmark::BenchmarkName& name) {
  benchmark::BenchmarkName bare;
  bare.function_name = name.function_name;
  bare.args = name.args;
  return bare;
}

}  // namespace greenbench
