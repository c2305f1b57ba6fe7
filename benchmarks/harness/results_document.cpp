// results_document.cpp: the probe's results document (see results_document.h).
#include "harness/results_document.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cmath>
#include <ctime>
#include <sstream>

#include "harness/build_info.h"
#include "harness/procfs.h"
#include "harness/system_limits.h"

namespace greenbench {
namespace {

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// The first value of `key` in /proc/cpuinfo, or "".
std::string cpuinfo_field(const std::string& key) {
  std::istringstream lines(read_file("/proc/cpuinfo"));
  for (std::string line; std::getline(lines, line);) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name == key) return line.substr(line.find_first_not_of(" \t", colon + 1));
  }
  return "";
}

nlohmann::ordered_json load_average() {
  std::istringstream fields(read_file("/proc/loadavg"));
  nlohmann::ordered_json loads = nlohmann::ordered_json::array();
  double load = 0;
  for (int i = 0; i < 3 && fields >> load; ++i) loads.push_back(load);
  return loads;
}

std::string number(double value) {
  if (!std::isfinite(value)) return "NaN";
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return nlohmann::json(static_cast<std::int64_t>(value)).dump();
  }
  return nlohmann::json(value).dump();
}

void write_entry(std::ostringstream& out, const IterationEntry& entry) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"name", nlohmann::json(entry.name).dump()},
      {"run_name", nlohmann::json(entry.name).dump()},
      {"run_type", "\"iteration\""},
      {"repetitions", std::to_string(entry.repetitions)},
      {"repetition_index", std::to_string(entry.repetition_index)},
      {"threads", "1"},
      {"iterations", std::to_string(entry.iterations)},
      {"real_time", number(entry.real_time)},
      {"cpu_time", number(entry.cpu_time)},
      {"time_unit", nlohmann::json(entry.time_unit).dump()},
  };
  if (!entry.label.empty()) fields.emplace_back("label", nlohmann::json(entry.label).dump());
  for (const auto& [name, value] : entry.counters) fields.emplace_back(name, number(value));
  out << "    {\n";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    out << "      " << nlohmann::json(fields[i].first).dump() << ": " << fields[i].second
        << (i + 1 < fields.size() ? ",\n" : "\n");
  }
  out << "    }";
}

}  // namespace

nlohmann::ordered_json results_context(const std::string& executable,
                                       const std::vector<std::string>& warnings) {
  const std::string date = utc_now_iso8601();
  const std::string host = host_name();
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  utsname uts{};
  ::uname(&uts);
  std::string governor = read_line_or_empty("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  std::vector<std::string> all_warnings = warnings;
  if (governor.empty()) {
    governor = "unknown";
    all_warnings.push_back("cpufreq governor unknown (no cpufreq in sysfs, typical of VMs)");
  }
  const SystemLimits limits = read_system_limits();
  nlohmann::ordered_json greenbench = {
      {"format_version", 1},
      {"program", "greenbench_probe"},
      {"host", host},
      {"date", date},
      {"cpu_model", cpuinfo_field("model name")},
      {"cpus", cpus},
      {"kernel", std::string(uts.sysname) + " " + uts.release},
  };
  greenbench.update(build_info());
  greenbench["governor"] = governor;
  greenbench["limits"] = {
      {"pid_max", limits.pid_max},
      {"threads_max", limits.threads_max},
      {"max_map_count", limits.max_map_count},
      {"rlimit_nproc", limits.rlimit_nproc},
      {"rlimit_nofile", limits.rlimit_nofile},
      {"mem_total_bytes", limits.mem_total_bytes},
      {"mem_available_bytes", limits.mem_available_bytes},
      {"cgroup_pids_max", limits.cgroup_pids_max},
  };
  greenbench["warnings"] = all_warnings;
  return {
      {"date", date},     {"host_name", host},          {"executable", executable},
      {"num_cpus", cpus}, {"load_avg", load_average()}, {"greenbench", greenbench},
  };
}

std::string results_document(const nlohmann::ordered_json& context,
                             const std::vector<IterationEntry>& entries) {
  std::ostringstream out;
  std::string context_text = context.dump(2);
  for (std::size_t at = context_text.find('\n'); at != std::string::npos;
       at = context_text.find('\n', at + 3)) {
    context_text.insert(at + 1, "  ");  // nested one level under "context"
  }
  out << "{\n  \"context\": " << context_text << ",\n  \"benchmarks\": [\n";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    write_entry(out, entries[i]);
    out << (i + 1 < entries.size() ? ",\n" : "\n");
  }
  out << "  ]\n}\n";
  return out.str();
}

}  // namespace greenbench
