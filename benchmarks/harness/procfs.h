// procfs.h: the suite's one reader of /proc and /sys: this process's memory (user and
// kernel side) and mappings, the machine's thread count and limits on tasks.
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

// The kernel stack every thread (kernel task) has: THREAD_SIZE, 16 KiB on x86-64 and
// arm64 since Linux 3.15 (32 KiB on kernels built with KASAN, which no distribution
// ships). The kernel exports no per-process figure; /proc/meminfo's KernelStack is
// system-wide and is THREAD_SIZE times the machine's tasks.
inline constexpr std::int64_t kKernelStackBytes = 16 * 1024;

// The kernel memory of this process that grows with its tasks, from /proc/self/status:
// its page tables (VmPTE: every level, as the kernel counts them for this mm) and its
// kernel stacks (Threads x kKernelStackBytes). Per process, so other processes and the
// deferred frees of an earlier one do not move it; slab objects (task_struct, about
// 6-10 KiB a thread) have no per-process account and are not in it.
struct KernelMemory {
  std::int64_t page_table_bytes = 0;    // VmPTE
  std::int64_t threads = 0;             // Threads
  std::int64_t kernel_stack_bytes = 0;  // threads * kKernelStackBytes
  std::int64_t bytes() const { return page_table_bytes + kernel_stack_bytes; }
};
// "VmPTE:  48 kB" and "Threads:  1" of a /proc/<pid>/status text; throws
// std::runtime_error when either is missing.
KernelMemory parse_kernel_memory(const std::string& status_text);
KernelMemory process_kernel_memory();

struct MemoryReading {
  std::int64_t rss_bytes = 0;  // smaps_rollup Rss: exact (statm's is approximate)
  std::int64_t pss_bytes = 0;  // smaps_rollup Pss
  std::int64_t vsz_bytes = 0;  // statm size: address space reserved
  KernelMemory kernel;         // this process's page tables and kernel stacks
};
MemoryReading read_memory();

// This process's resident bytes (smaps_rollup Rss, exact).
std::int64_t resident_bytes();
// A /proc/meminfo field in bytes (MemAvailable, MemTotal), -1 if absent.
std::int64_t meminfo_bytes(const std::string& key);
// Mappings of this process: lines of /proc/self/maps.
std::int64_t map_count();
// Kernel scheduling entities (threads) on the machine now: /proc/loadavg's 4th field.
std::int64_t system_thread_count();
// Nanoseconds thread `tid` of this process has spent runnable but waiting for a CPU
// (on a run queue) since it started: /proc/self/task/TID/schedstat's second field; -1
// when the kernel keeps no such figure or the thread has ended.
std::int64_t run_queue_wait_ns(long tid);

}  // namespace greenbench
