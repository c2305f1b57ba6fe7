// suite_sizes.h: the timing workloads' sizes, read from benchmarks/sizes.json, the one
// place they are written (scripts/greenbench/catalogue.py reads the same file, so the
// driver's names and the Go peer's sizes line up with this binary's).
//
// Invariant: the file is compiled in (harness/suite_sizes_json.h.in); a set that is
// missing, or a size that is not a positive integer, is a build defect and throws.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace greenbench {

struct SuiteSizes {
  std::vector<std::int64_t> thread_create_n;  // tasks per create iteration, OS threads
  std::vector<std::int64_t> fiber_create_n;   // ... M:N runtimes
  std::vector<std::int64_t> thread_skynet_n;  // skynet leaves, OS threads
  std::vector<std::int64_t> fiber_skynet_n;   // ... M:N runtimes
  std::int64_t switches_per_iteration;        // one-way switches per switch iteration
};

// The set named `which` ("full", "smoke"); throws std::invalid_argument for another name.
SuiteSizes suite_sizes(std::string_view which);

// The fiber worker counts of the gil workload.
std::vector<unsigned> gil_workers();

}  // namespace greenbench
