// system_limits.cpp: reading the limits on tasks and telling which one binds (see
// system_limits.h).
#include "harness/system_limits.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "harness/procfs.h"

namespace greenbench {
namespace {

constexpr std::int64_t kReservedPids = 300;  // RESERVED_PIDS: not reused after pids wrap
constexpr std::int64_t kMapsPerThread = 2;   // stack + guard page
// A limit counts as the one that bound when fewer than this many tasks were left under it:
// the headroom formulas are approximate by up to a few hundred (reserved pids, mappings of
// the process's own that come and go).
constexpr std::int64_t kBindSlack = 512;

std::int64_t soft_rlimit(int resource) {
  rlimit limit{};
  if (::getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return -1;
  return static_cast<std::int64_t>(limit.rlim_cur);
}

// The pids cgroup directories of this process, leaf first, up to the hierarchy's root
// (cgroup v2's unified hierarchy, or v1's pids controller).
std::vector<std::string> pids_cgroup_dirs() {
  std::vector<std::string> dirs;
  std::istringstream lines;
  try {
    lines.str(read_file("/proc/self/cgroup"));
  } catch (const std::runtime_error&) {
    return dirs;  // no cgroups: no pids limit
  }
  std::string root, path;
  for (std::string line; std::getline(lines, line);) {
    // hierarchy-ID:controller-list:cgroup-path
    const std::size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string where = line.substr(second + 1);
    if (controllers == "pids") {
      root = "/sys/fs/cgroup/pids";
      path = where;
      break;
    }
    if (controllers.empty() && line.compare(0, first, "0") == 0) {
      root = "/sys/fs/cgroup";
      path = where;
    }
  }
  if (root.empty()) return dirs;
  for (;;) {
    dirs.push_back(root + (path == "/" ? "" : path));
    if (path == "/" || path.empty()) return dirs;
    path = path.substr(0, path.find_last_of('/'));
    if (path.empty()) path = "/";
  }
}

struct CgroupPids {
  std::int64_t max = -1;       // the tightest pids.max
  std::int64_t headroom = -1;  // the smallest pids.max - pids.current
};

CgroupPids cgroup_pids() {
  CgroupPids pids;
  for (const std::string& dir : pids_cgroup_dirs()) {
    const std::int64_t max = read_count_or_unknown(dir + "/pids.max");
    const std::int64_t current = read_count_or_unknown(dir + "/pids.current");
    if (max < 0) continue;
    if (pids.max < 0 || max < pids.max) pids.max = max;
    if (current >= 0 && (pids.headroom < 0 || max - current < pids.headroom)) pids.headroom = max - current;
  }
  return pids;
}

void tighten(Headroom& headroom, std::int64_t tasks, const char* bound) {
  if (!headroom.tasks || tasks < *headroom.tasks) headroom = {tasks, bound};
}

std::int64_t map_headroom_in_threads(std::int64_t max_map_count) {
  return (max_map_count - map_count()) / kMapsPerThread;
}

}  // namespace

SystemLimits read_system_limits() {
  SystemLimits limits;
  limits.pid_max = read_count_or_unknown("/proc/sys/kernel/pid_max");
  limits.threads_max = read_count_or_unknown("/proc/sys/kernel/threads-max");
  limits.max_map_count = read_count_or_unknown("/proc/sys/vm/max_map_count");
  limits.rlimit_nproc = soft_rlimit(RLIMIT_NPROC);
  limits.rlimit_nofile = soft_rlimit(RLIMIT_NOFILE);
  limits.mem_total_bytes = meminfo_bytes("MemTotal");
  limits.mem_available_bytes = meminfo_bytes("MemAvailable");
  limits.cgroup_pids_max = cgroup_pids().max;
  return limits;
}

Headroom thread_headroom() {
  const SystemLimits limits = read_system_limits();
  const std::int64_t threads = system_thread_count();
  Headroom headroom;
  if (limits.pid_max > 0) tighten(headroom, limits.pid_max - kReservedPids - threads, "pid_max");
  if (limits.threads_max > 0) tighten(headroom, limits.threads_max - threads, "threads_max");
  if (const CgroupPids pids = cgroup_pids(); pids.headroom >= 0)
    tighten(headroom, pids.headroom, "cgroup_pids");
  if (limits.rlimit_nproc > 0 && ::geteuid() != 0)
    tighten(headroom, limits.rlimit_nproc - threads, "rlimit_nproc");
  if (limits.max_map_count > 0)
    tighten(headroom, map_headroom_in_threads(limits.max_map_count), "max_map_count");
  return headroom;
}

std::string spawn_failure_bound(TaskKind kind, int error) {
  if (kind == TaskKind::os_thread) {
    const Headroom headroom = thread_headroom();
    if (headroom.tasks && *headroom.tasks <= kBindSlack) return headroom.bound;
  } else if (const std::int64_t max_maps = read_count_or_unknown("/proc/sys/vm/max_map_count");
             max_maps > 0 && max_maps - map_count() <= kBindSlack) {
    return "max_map_count";
  }
  const char* name = ::strerrorname_np(error);
  return "errno:" + (name ? std::string(name) : std::to_string(error));
}

}  // namespace greenbench
