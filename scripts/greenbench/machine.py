"""The machine a run measures: context.greenbench's description of it
(docs/results-format.md, context), the warnings that make its timings suspect, whether
the run is privileged, and the noise (CPU steal, CPU pressure) each entry ran under.

Invariant: reading the machine changes nothing on it; a value that cannot be read is
written as -1 or "unknown", never guessed.
"""

import datetime
import os
import platform
import resource
import shutil
import subprocess
import time

# capabilities(7): CAP_SYS_RESOURCE exempts a process from RLIMIT_NPROC and lets it raise
# its hard limits (RLIMIT_NOFILE up to nr_open); root's user is exempt from RLIMIT_NPROC too.
CAP_SYS_RESOURCE = 24


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def read_int(path):
    text = read(path)
    if not text:
        return -1
    word = text.split()[0]
    return -1 if word == "max" else int(word)


def meminfo(key):
    for line in read("/proc/meminfo").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return -1


def command_output(argv, cwd=None):
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True, cwd=cwd).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def effective_capabilities(status_text):
    """CapEff of a /proc/PID/status text, as an int (0 when absent)."""
    for line in status_text.splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return 0


def privilege(euid, cap_eff):
    """What exempts this run from a user's limits: "root", "CAP_SYS_RESOURCE" or "none".
    Root is not bound by RLIMIT_NPROC and may raise RLIMIT_NOFILE to nr_open, so a
    privileged run's thread and connection counts are not a user's."""
    if euid == 0:
        return "root"
    if cap_eff >> CAP_SYS_RESOURCE & 1:
        return "CAP_SYS_RESOURCE"
    return "none"


def pids_cgroup_dirs(cgroup_text):
    """The pids cgroup directories of the process whose /proc/PID/cgroup text is given,
    leaf first, up to the hierarchy's root: cgroup v1's pids controller where it is
    mounted, else v2's unified hierarchy ("0::PATH"); [] where neither is listed. The C++
    suite's system_limits.cpp and the Go peer's procfs.go read them the same way."""
    root = path = None
    for line in cgroup_text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if "pids" in parts[1].split(","):
            root, path = "/sys/fs/cgroup/pids", parts[2]
            break
        if parts[0] == "0" and parts[1] == "":
            root, path = "/sys/fs/cgroup", parts[2]
    if root is None:
        return []
    dirs = []
    while True:
        dirs.append(root + ("" if path == "/" else path.rstrip("/")))
        if path in ("/", ""):
            return dirs
        path = path.rstrip("/").rsplit("/", 1)[0] or "/"


def cgroup_pids_max(cgroup_text):
    """The tightest pids.max of this process's pids cgroup and its ancestors; -1 where
    none is set ("max") or readable."""
    limits = [read_int(os.path.join(d, "pids.max")) for d in pids_cgroup_dirs(cgroup_text)]
    limits = [n for n in limits if n >= 0]
    return min(limits) if limits else -1


def machine_context(profile, build_info, root):
    """context.greenbench for a run of `profile` of the tree at `root`."""
    cpu_model = "unknown"
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    pids_max = cgroup_pids_max(read("/proc/self/cgroup"))
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    euid = os.geteuid()
    privileged = privilege(euid, effective_capabilities(read("/proc/self/status")))
    ctx = {
        "format_version": 1,
        "host": platform.node(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "profile": profile,
        "git_commit": command_output(["git", "rev-parse", "HEAD"], cwd=root) or "unknown",
        "cpu_model": cpu_model,
        "cpus": os.cpu_count(),
        "kernel": f"{platform.system()} {platform.release()}",
        "compiler": build_info.get("compiler", "unknown"),
        "cxx_flags": build_info.get("cxx_flags", "unknown"),
        "build_type": build_info.get("build_type", "unknown"),
        "governor": read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "unknown"),
        "euid": euid,
        "privileged": privileged != "none",
        "privilege": privileged,
        "limits": {
            "pid_max": read_int("/proc/sys/kernel/pid_max"),
            "threads_max": read_int("/proc/sys/kernel/threads-max"),
            "max_map_count": read_int("/proc/sys/vm/max_map_count"),
            "rlimit_nproc": -1 if nproc == resource.RLIM_INFINITY else nproc,
            "rlimit_nofile": -1 if nofile == resource.RLIM_INFINITY else nofile,
            "mem_total_bytes": meminfo("MemTotal"),
            "mem_available_bytes": meminfo("MemAvailable"),
            "cgroup_pids_max": pids_max,
        },
        "python_version": platform.python_version(),
        "transparent_hugepage": bracketed(read("/sys/kernel/mm/transparent_hugepage/enabled")),
        "clocksource": read("/sys/devices/system/clocksource/clocksource0/current_clocksource", "unknown"),
        "noise": {},
        "warnings": [],
    }
    go = shutil.which("go")
    if go:
        ctx["go_version"] = command_output([go, "version"]) or "unknown"
    return ctx


# An entry measured while more than these fractions of CPU time were stolen by the
# hypervisor, or while some runnable task waited for a CPU, gets an entry warning.
STEAL_WARN_FRACTION = 0.02
PRESSURE_WARN_FRACTION = 0.10
STEAL_WARNING = (f"measured under CPU steal: the hypervisor took more than {STEAL_WARN_FRACTION:.0%} of "
                 "the CPU time (context.greenbench.noise has the figure)")
PRESSURE_WARNING = (f"measured under CPU pressure: some runnable task waited for a CPU more than "
                    f"{PRESSURE_WARN_FRACTION:.0%} of the time (/proc/pressure/cpu; "
                    "context.greenbench.noise has the figure)")


def parse_stat_cpu(stat_text):
    """(steal jiffies, all jiffies) of /proc/stat's aggregate "cpu" line; (0, 0) if absent.
    The fields: user nice system idle iowait irq softirq steal guest guest_nice; guest
    time is part of user time already, so it is not added again."""
    for line in stat_text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            ticks = [int(f) for f in fields[1:]]
            steal = ticks[7] if len(ticks) > 7 else 0
            return steal, sum(ticks[:8])
    return 0, 0


def parse_pressure_some_us(pressure_text):
    """The "some" line's total= (microseconds some task waited) of a /proc/pressure file,
    or None where it cannot be read (kernels without PSI)."""
    for line in pressure_text.splitlines():
        fields = line.split()
        if fields and fields[0] == "some":
            for field in fields[1:]:
                if field.startswith("total="):
                    return int(field[len("total="):])
    return None


def noise_reading():
    """What noise_between compares: monotonic time, /proc/stat's steal and all jiffies,
    /proc/pressure/cpu's "some" total."""
    steal, total = parse_stat_cpu(read("/proc/stat"))
    return {"time": time.monotonic(), "steal": steal, "total": total,
            "pressure_us": parse_pressure_some_us(read("/proc/pressure/cpu"))}


def noise_between(before, after):
    """The noise an entry was measured under, from two noise_reading()s around it:
    steal_fraction (of all CPU time, every CPU), cpu_pressure_fraction (of wall time that
    some runnable task waited for a CPU; None without PSI) and load_avg_1m at the end."""
    total = after["total"] - before["total"]
    wall_us = (after["time"] - before["time"]) * 1e6
    pressure = None
    if before["pressure_us"] is not None and after["pressure_us"] is not None and wall_us > 0:
        pressure = round(min(1.0, (after["pressure_us"] - before["pressure_us"]) / wall_us), 4)
    return {"steal_fraction": round((after["steal"] - before["steal"]) / total, 4) if total > 0 else 0.0,
            "cpu_pressure_fraction": pressure,
            "load_avg_1m": round(os.getloadavg()[0], 2)}


def noise_warnings(noise):
    """The entry warnings of an entry measured under `noise` (noise_between's)."""
    out = []
    if noise["steal_fraction"] > STEAL_WARN_FRACTION:
        out.append(STEAL_WARNING)
    if noise["cpu_pressure_fraction"] is not None and noise["cpu_pressure_fraction"] > PRESSURE_WARN_FRACTION:
        out.append(PRESSURE_WARNING)
    return out


def bracketed(text):
    """The selected word of a sysfs choice file ("always [madvise] never": madvise)."""
    start, end = text.find("["), text.find("]")
    return text[start + 1:end] if 0 <= start < end else (text or "unknown")


def warnings(ctx):
    """What makes this run's figures differ from a quiet, unprivileged machine's."""
    out = []
    load1 = os.getloadavg()[0]
    if load1 > 0.5 * (os.cpu_count() or 1):
        out.append(f"machine busy: load average {load1:.2f} on {os.cpu_count()} CPUs; timings will be noisy")
    gov = ctx["governor"]
    if gov == "unknown":
        out.append("CPU frequency governor unknown (no cpufreq files, as in most VMs): "
                   "frequency scaling cannot be ruled out")
    elif gov != "performance":
        out.append(f"CPU frequency governor is '{gov}', not 'performance': timings may drift")
    if ctx["privileged"]:
        out.append(f"privileged run ({ctx['privilege']}): RLIMIT_NPROC does not bind and RLIMIT_NOFILE "
                   "may be raised to nr_open, so thread and connection counts exceed a user's")
    return out
