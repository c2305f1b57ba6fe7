// procfs.cpp: the /proc and /sys readers (see procfs.h).
#include "harness/procfs.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace greenbench {

std::map<std::string, std::int64_t> parse_kb_table(const std::string& text) {
  std::map<std::string, std::int64_t> table;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon);
    if (key.find_first_of(" \t") != std::string::npos) continue;  // smaps_rollup's header
    std::istringstream fields(line.substr(colon + 1));
    std::int64_t value = 0;
    std::string unit;
    if (!(fields >> value)) continue;
    fields >> unit;
    table[key] = unit == "kB" ? value * 1024 : value;
  }
  return table;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string read_line_or_empty(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  const auto blank = [](unsigned char c) { return std::isspace(c); };
  line.erase(line.begin(), std::find_if_not(line.begin(), line.end(), blank));
  line.erase(std::find_if_not(line.rbegin(), line.rend(), blank).base(), line.end());
  return line;
}

std::int64_t read_count_or_unknown(const std::string& path) {
  const std::string text = read_line_or_empty(path);
  try {
    std::size_t used = 0;
    const long long value = std::stoll(text, &used);
    return used == text.size() ? value : -1;
  } catch (const std::exception&) {
    return -1;  // "max", empty, unreadable
  }
}

namespace {

std::int64_t field(const std::map<std::string, std::int64_t>& table, const std::string& key,
                   const std::string& file) {
  const auto it = table.find(key);
  if (it == table.end()) throw std::runtime_error(file + " has no " + key);
  return it->second;
}

}  // namespace

std::int64_t resident_bytes() {
  return field(parse_kb_table(read_file("/proc/self/smaps_rollup")), "Rss", "smaps_rollup");
}

std::int64_t peak_resident_bytes() {
  return field(parse_kb_table(read_file("/proc/self/status")), "VmHWM", "status");
}

void reset_peak_resident() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  if (!(clear_refs << "5" << std::flush)) {
    throw std::runtime_error("cannot reset the peak Rss: /proc/self/clear_refs refused 5");
  }
}

KernelMemory parse_kernel_memory(const std::string& status_text) {
  const auto status = parse_kb_table(status_text);
  KernelMemory kernel;
  kernel.page_table_bytes = field(status, "VmPTE", "status");
  kernel.threads = field(status, "Threads", "status");
  kernel.kernel_stack_bytes = kernel.threads * kKernelStackBytes;
  return kernel;
}

KernelMemory process_kernel_memory() { return parse_kernel_memory(read_file("/proc/self/status")); }

std::int64_t meminfo_bytes(const std::string& key) {
  const auto meminfo = parse_kb_table(read_file("/proc/meminfo"));
  const auto it = meminfo.find(key);
  return it == meminfo.end() ? -1 : it->second;
}

MemoryReading read_memory() {
  const auto rollup = parse_kb_table(read_file("/proc/self/smaps_rollup"));
  std::istringstream statm(read_file("/proc/self/statm"));
  std::int64_t size_pages = 0;
  if (!(statm >> size_pages)) throw std::runtime_error("cannot parse /proc/self/statm");
  MemoryReading reading;
  reading.rss_bytes = field(rollup, "Rss", "smaps_rollup");
  reading.pss_bytes = field(rollup, "Pss", "smaps_rollup");
  reading.vsz_bytes = size_pages * ::sysconf(_SC_PAGESIZE);
  reading.kernel = process_kernel_memory();
  return reading;
}

std::int64_t map_count() {
  const std::string maps = read_file("/proc/self/maps");
  return std::count(maps.begin(), maps.end(), '\n');
}

std::int64_t system_thread_count() {
  // "0.42 0.31 0.25 2/1234 5678": runnable/total kernel scheduling entities.
  std::istringstream loadavg(read_file("/proc/loadavg"));
  std::string ignored, entities;
  loadavg >> ignored >> ignored >> ignored >> entities;
  const std::size_t slash = entities.find('/');
  if (slash == std::string::npos) throw std::runtime_error("cannot parse /proc/loadavg");
  return std::stoll(entities.substr(slash + 1));
}

std::int64_t run_queue_wait_ns(long tid) {
  // "4329578 16716390 2": on-CPU ns, run-queue wait ns, timeslices.
  std::istringstream schedstat(read_line_or_empty("/proc/self/task/" + std::to_string(tid) + "/schedstat"));
  std::int64_t on_cpu = 0, waiting = -1;
  return schedstat >> on_cpu >> waiting ? waiting : -1;
}

}  // namespace greenbench
