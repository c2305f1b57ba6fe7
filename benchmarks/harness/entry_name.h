// entry_name.h: the results format's entry names, built in one place for both programs:
// workload/runtime[/param:value...] (docs/results-format.md, Names). The runtime prefix
// (TaskRuntime::prefix(): the runtime id and its parameters) comes first, then the
// workload's parameters, in the order the format lists them.
#pragma once

#include <string>
#include <vector>

namespace greenbench {

inline std::string entry_name(const std::string& workload, const std::string& runtime_prefix,
                              const std::vector<std::string>& workload_params = {}) {
  std::string name = workload + "/" + runtime_prefix;
  for (const std::string& param : workload_params) name += "/" + param;
  return name;
}

}  // namespace greenbench
