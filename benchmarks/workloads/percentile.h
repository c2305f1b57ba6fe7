// percentile.h: the nearest-rank percentile of sorted samples, the one definition every
// latency figure of the suite uses (echo, fairness, blocking).
//
// Invariant: the result is one of the samples (q in (0, 1]); NaN when there are none.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace greenbench {

template <class T>
double nearest_rank(const std::vector<T>& sorted, double q) {
  if (sorted.empty()) return NAN;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1]);
}

}  // namespace greenbench
