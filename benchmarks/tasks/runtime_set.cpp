// runtime_set.cpp: the suite's worker counts and prefixes, and parsing a prefix back into
// an adapter (see runtime_set.h).
#include "tasks/runtime_set.h"

#include <charconv>

#include "harness/cpu_affinity.h"

namespace greenbench {
namespace {

constexpr unsigned kMaxWorkers = 1024;

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// The value of "key:value", or nullopt when `part` is not that key.
std::optional<std::string_view> value_of(std::string_view part, std::string_view key) {
  if (part.size() <= key.size() + 1 || part.substr(0, key.size()) != key || part[key.size()] != ':') {
    return std::nullopt;
  }
  return part.substr(key.size() + 1);
}

std::optional<unsigned> positive(std::string_view digits, unsigned max) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size() || value == 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

// The bytes of "NKiB": N from 16 to 1 GiB's worth, whole 4 KiB pages; nullopt otherwise.
std::optional<std::size_t> stack_kib(std::string_view text) {
  if (text.size() < 4 || text.substr(text.size() - 3) != "KiB") return std::nullopt;
  const auto kib = positive(text.substr(0, text.size() - 3), 1u << 20);
  if (!kib || *kib < 16 || *kib % 4 != 0) return std::nullopt;
  return std::size_t{*kib} * 1024;
}

std::optional<AnyRuntime> fiber_named(const std::vector<std::string_view>& params) {
  if (params.empty() || params.size() > 2) return std::nullopt;
  const auto workers = value_of(params[0], "workers");
  const auto count = workers ? positive(*workers, kMaxWorkers) : std::nullopt;
  if (!count) return std::nullopt;
  if (params.size() == 1) return FiberRuntime{*count};
  const auto stack = value_of(params[1], "stack");
  const auto bytes = stack ? stack_kib(*stack) : std::nullopt;
  if (!bytes) return std::nullopt;
  return FiberRuntime{*count, *bytes};
}

std::optional<AnyRuntime> pthread_named(const std::vector<std::string_view>& params) {
  if (params.size() != 1) return std::nullopt;
  const auto stack = value_of(params[0], "stack");
  if (!stack) return std::nullopt;
  if (*stack == "default") return PthreadRuntime{0};
  const auto bytes = stack_kib(*stack);
  if (!bytes) return std::nullopt;
  return PthreadRuntime{*bytes};
}

std::optional<AnyRuntime> boost_fiber_named(const std::vector<std::string_view>& params) {
  using Boost = BoostFiberRuntime;
  if (params.size() != 3) return std::nullopt;
  const auto sched = value_of(params[0], "sched");
  const auto workers = value_of(params[1], "workers");
  const auto alloc = value_of(params[2], "alloc");
  if (!sched || !workers || !alloc) return std::nullopt;
  const auto count = positive(*workers, kMaxWorkers);
  if (!count) return std::nullopt;
  Boost::Scheduler scheduler;
  if (*sched == "round_robin" && *count == 1) {
    scheduler = Boost::Scheduler::round_robin;
  } else if (*sched == "work_stealing") {
    scheduler = Boost::Scheduler::work_stealing;
  } else {
    return std::nullopt;
  }
  Boost::Stacks stacks;
  if (*alloc == "default") {
    stacks = Boost::Stacks::fixedsize;
  } else if (*alloc == "pooled") {
    stacks = Boost::Stacks::pooled;
  } else {
    return std::nullopt;
  }
  return Boost{scheduler, *count, stacks};
}

}  // namespace

std::vector<unsigned> suite_worker_counts() {
  const unsigned all = static_cast<unsigned>(allowed_cpus().size());
  if (all <= 1) return {1};
  return {1, all};
}

std::vector<unsigned> scaling_worker_counts() {
  const unsigned all = static_cast<unsigned>(allowed_cpus().size());
  std::vector<unsigned> counts;
  for (unsigned w = 1; w < all; w *= 2) counts.push_back(w);
  counts.push_back(all);
  return counts;
}

std::optional<std::vector<unsigned>> parse_worker_counts(std::string_view list) {
  std::vector<unsigned> counts;
  for (std::string_view part : split(list, ',')) {
    const auto count = positive(part, kMaxWorkers);
    if (!count) return std::nullopt;
    for (unsigned seen : counts) {
      if (seen == *count) return std::nullopt;
    }
    counts.push_back(*count);
  }
  return counts;
}

std::vector<std::string> suite_runtime_prefixes() {
  std::vector<std::string> prefixes;
  const auto add = [&](const auto& rt) { prefixes.push_back(rt.prefix()); };
  for_each_os_thread_runtime(add);
  for (unsigned workers : suite_worker_counts()) for_each_m_to_n_runtime(workers, add);
  return prefixes;
}

std::optional<AnyRuntime> runtime_named(std::string_view prefix) {
  const std::vector<std::string_view> parts = split(prefix, '/');
  const std::string_view id = parts.front();
  const std::vector<std::string_view> params(parts.begin() + 1, parts.end());
  if (id == "fiber") return fiber_named(params);
  if (id == "std_thread")
    return params.empty() ? std::optional<AnyRuntime>(StdThreadRuntime{}) : std::nullopt;
  if (id == "pthread") return pthread_named(params);
  if (id == "boost_fiber") return boost_fiber_named(params);
  return std::nullopt;
}

}  // namespace greenbench
