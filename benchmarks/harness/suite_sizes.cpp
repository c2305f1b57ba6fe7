// suite_sizes.cpp: benchmarks/sizes.json, compiled in, parsed once (see suite_sizes.h).
#include "harness/suite_sizes.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "suite_sizes_json.h"

namespace greenbench {
namespace {

const nlohmann::json& sizes_document() {
  static const nlohmann::json doc = nlohmann::json::parse(kSizesJson);
  return doc;
}

std::int64_t positive(const nlohmann::json& v, const std::string& what) {
  if (!v.is_number_integer() || v.get<std::int64_t>() <= 0)
    throw std::invalid_argument("benchmarks/sizes.json: " + what + " is not a positive integer");
  return v.get<std::int64_t>();
}

std::vector<std::int64_t> sizes_list(const nlohmann::json& set, const std::string& key) {
  std::vector<std::int64_t> out;
  for (const auto& v : set.at(key)) out.push_back(positive(v, key));
  if (out.empty()) throw std::invalid_argument("benchmarks/sizes.json: " + key + " is empty");
  return out;
}

}  // namespace

SuiteSizes suite_sizes(std::string_view which) {
  const auto& timing = sizes_document().at("timing");
  const auto it = timing.find(std::string(which));
  if (it == timing.end()) throw std::invalid_argument("no size set named " + std::string(which));
  const nlohmann::json& set = *it;
  return {sizes_list(set, "thread_create_n"),
          sizes_list(set, "fiber_create_n"),
          sizes_list(set, "thread_skynet_n"),
          sizes_list(set, "fiber_skynet_n"),
          positive(set.at("switches_per_iteration"), "switches_per_iteration"),
          positive(set.at("window_ms"), "window_ms")};
}

std::vector<unsigned> gil_workers() {
  std::vector<unsigned> out;
  for (const auto& v : sizes_document().at("gil_workers"))
    out.push_back(static_cast<unsigned>(positive(v, "gil_workers")));
  return out;
}

}  // namespace greenbench
