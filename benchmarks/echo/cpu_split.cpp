// cpu_split.cpp: splitting the usable CPUs between an echo server and its client (see
// cpu_split.h).
#include "echo/cpu_split.h"

#include <stdexcept>

namespace greenbench::echo {
namespace {

// "0-3,6" for ascending CPU numbers.
std::string cpu_list(const std::vector<int>& cpus) {
  std::string text;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!text.empty()) text += ",";
    text += std::to_string(cpus[i]) + (j > i ? "-" + std::to_string(cpus[j]) : "");
    i = j + 1;
  }
  return text;
}

}  // namespace

std::string CpuSplit::describe() const {
  if (!disjoint()) return "client and server share CPUs " + cpu_list(server);
  return "client on CPUs " + cpu_list(client) + ", server on CPUs " + cpu_list(server);
}

CpuSplit split_cpus(const std::vector<int>& usable, int client_cpus) {
  if (client_cpus == kClientCpusAuto) {
    client_cpus =
        usable.size() >= kDisjointFromCpus ? static_cast<int>(usable.size() / 2) : kClientCpusShared;
  }
  if (client_cpus == kClientCpusShared) return {usable, usable};
  if (client_cpus < 0 || static_cast<std::size_t>(client_cpus) >= usable.size()) {
    throw std::invalid_argument(std::to_string(client_cpus) + " client CPUs of " +
                                std::to_string(usable.size()) + " usable leave the server none");
  }
  const auto cut = usable.end() - client_cpus;
  return {{usable.begin(), cut}, {cut, usable.end()}};
}

int parse_client_cpus(const std::string& text) {
  if (text == "auto") return kClientCpusAuto;
  if (text == "shared") return kClientCpusShared;
  std::size_t used = 0;
  int n = 0;
  try {
    n = std::stoi(text, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (used != text.size() || n <= 0) {
    throw std::invalid_argument("'" + text + "' is not auto, shared or a count of CPUs");
  }
  return n;
}

}  // namespace greenbench::echo
