// procfs.h: the suite's one reader of /proc and /sys: this process's memory and mappings,
// the machine's kernel memory, thread count and limits on tasks.
//
// Invariant: every reader returns bytes (never kB or pages) or a plain count; -1 stands
// for unlimited or unknown. Readers that the measurements depend on throw
// std::runtime_error when the file cannot be read, rather than report a made-up zero.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace greenbench {

// "Key:   123 kB" lines (/proc/meminfo, /proc/self/smaps_rollup) as bytes; values without
// "kB" are counts and kept as they are; other lines are skipped.
std::map<std::string, std::int64_t> parse_kb_table(const std::string& text);

// The whole file; throws std::runtime_error when it cannot be read.
std::string read_file(const std::string& path);
// The file's first line without surrounding blanks, or "" when it cannot be read.
std::string read_line_or_empty(const std::string& path);
// A number file ("32768", or "max" = -1), or -1 when it cannot be read.
std::int64_t read_count_or_unknown(const std::string& path);

struct MemoryReading {
  std::int64_t rss_bytes = 0;     // smaps_rollup Rss: exact (statm's is approximate)
  std::int64_t pss_bytes = 0;     // smaps_rollup Pss
  std::int64_t vsz_bytes = 0;     // statm size: address space reserved
  std::int64_t kernel_bytes = 0;  // system-wide, see kernel_memory_bytes()
};
MemoryReading read_memory();

// This process's resident bytes (smaps_rollup Rss, exact).
std::int64_t resident_bytes();
// Kernel memory that tasks cost, system-wide (no per-process figure exists):
// KernelStack + PageTables + SecPageTables + SUnreclaim from /proc/meminfo.
std::int64_t kernel_memory_bytes();
// A /proc/meminfo field in bytes (MemAvailable, MemTotal), -1 if absent.
std::int64_t meminfo_bytes(const std::string& key);
// This process's peak resident bytes since it started or since the last
// reset_peak_resident(): VmHWM of /proc/self/status.
std::int64_t peak_resident_bytes();
// Starts a new peak: VmHWM becomes the present Rss (writes 5 to /proc/self/clear_refs,
// Linux 4.0+); throws std::runtime_error when the kernel refuses.
void reset_peak_resident();
// Mappings of this process: lines of /proc/self/maps.
std::int64_t map_count();
// Kernel scheduling entities (threads) on the machine now: /proc/loadavg's 4th field.
std::int64_t system_thread_count();

}  // namespace greenbench
