// cpu_split.h: which CPUs an echo server and its load generator run on. Where the
// machine lets this process use at least kDisjointFromCpus CPUs, they get disjoint sets,
// so the client neither steals the server's CPUs nor waits behind its threads; below
// that (a 2-CPU VM) both run on every usable CPU and the results say the CPUs were shared.
//
// Invariant: a split's server and client sets are either equal (shared: every usable
// CPU) or disjoint and together every usable CPU; neither is ever empty.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace greenbench::echo {

inline constexpr std::size_t kDisjointFromCpus = 4;
inline constexpr int kClientCpusAuto = -1;
inline constexpr int kClientCpusShared = 0;

struct CpuSplit {
  std::vector<int> server, client;
  bool disjoint() const { return server != client; }
  // "client on CPUs 2-3, server on CPUs 0-1" or "client and server share CPUs 0-1".
  std::string describe() const;
};

// Splits `usable` (ascending CPU numbers, not empty). client_cpus: kClientCpusAuto, the
// client on the upper half (rounded down) where there are kDisjointFromCpus CPUs or more,
// else shared; kClientCpusShared; or N > 0, the client on the last N and the server on
// the rest. Throws std::invalid_argument when N leaves the server no CPU.
CpuSplit split_cpus(const std::vector<int>& usable, int client_cpus);

// "auto", "shared" or a count N > 0 as split_cpus' client_cpus; throws
// std::invalid_argument on anything else.
int parse_client_cpus(const std::string& text);

}  // namespace greenbench::echo
