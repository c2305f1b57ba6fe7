// context.go describes the machine and the Go runtime a run happened on: the
// results format's "context" object, Google Benchmark's keys plus
// context.greenbench.
//
// Invariant: a figure that cannot be read is reported as unknown ("unknown",
// -1 or false as the format says), never guessed; whatever could distort the
// numbers goes into greenbench.warnings.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// rlimitNproc is RLIMIT_NPROC on Linux, which package syscall does not name.
const rlimitNproc = 6

type cacheInfo struct {
	Type       string `json:"type"`
	Level      int    `json:"level"`
	Size       int64  `json:"size"`
	NumSharing int    `json:"num_sharing"`
}

type limitsInfo struct {
	PidMax            int64 `json:"pid_max"`
	ThreadsMax        int64 `json:"threads_max"`
	MaxMapCount       int64 `json:"max_map_count"`
	RlimitNproc       int64 `json:"rlimit_nproc"`
	RlimitNofile      int64 `json:"rlimit_nofile"`
	MemTotalBytes     int64 `json:"mem_total_bytes"`
	MemAvailableBytes int64 `json:"mem_available_bytes"`
	CgroupPidsMax     int64 `json:"cgroup_pids_max"`
}

type greenbenchInfo struct {
	FormatVersion int        `json:"format_version"`
	Peer          string     `json:"peer"`
	Host          string     `json:"host"`
	Date          string     `json:"date"`
	GitCommit     string     `json:"git_commit"`
	CPUModel      string     `json:"cpu_model"`
	CPUs          int        `json:"cpus"`
	Kernel        string     `json:"kernel"`
	Compiler      string     `json:"compiler"`
	Governor      string     `json:"governor"`
	Limits        limitsInfo `json:"limits"`
	GoVersion     string     `json:"go_version"`
	GOMAXPROCS    int        `json:"gomaxprocs"`
	GOGC          string     `json:"gogc"`
	Isolation     string     `json:"isolation"`
	Warnings      []string   `json:"warnings"`
}

type runContext struct {
	Date              string         `json:"date"`
	HostName          string         `json:"host_name"`
	Executable        string         `json:"executable"`
	NumCPUs           int            `json:"num_cpus"`
	MHzPerCPU         int            `json:"mhz_per_cpu"`
	CPUScalingEnabled bool           `json:"cpu_scaling_enabled"`
	Caches            []cacheInfo    `json:"caches"`
	LoadAvg           []float64      `json:"load_avg"`
	LibraryBuildType  string         `json:"library_build_type"`
	Greenbench        greenbenchInfo `json:"greenbench"`
}

// cpuinfoField is the first value of key in /proc/cpuinfo, or "".
func cpuinfoField(cpuinfo, key string) string {
	for _, line := range strings.Split(cpuinfo, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(name) == key {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

func readTrimmed(path string) string {
	text, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(text))
}

// parseCacheSize reads sysfs cache sizes such as "32K" or "1024K" into bytes.
func parseCacheSize(text string) int64 {
	multiplier := int64(1)
	switch {
	case strings.HasSuffix(text, "K"):
		multiplier, text = 1024, strings.TrimSuffix(text, "K")
	case strings.HasSuffix(text, "M"):
		multiplier, text = 1024*1024, strings.TrimSuffix(text, "M")
	}
	value, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0
	}
	return value * multiplier
}

func readCaches() []cacheInfo {
	caches := []cacheInfo{}
	dirs, _ := filepath.Glob("/sys/devices/system/cpu/cpu0/cache/index*")
	sort.Strings(dirs)
	for _, dir := range dirs {
		level, err := strconv.Atoi(readTrimmed(dir + "/level"))
		if err != nil {
			continue
		}
		sharing, _ := parseCPUList(readTrimmed(dir + "/shared_cpu_list"))
		caches = append(caches, cacheInfo{
			Type:       readTrimmed(dir + "/type"),
			Level:      level,
			Size:       parseCacheSize(readTrimmed(dir + "/size")),
			NumSharing: sharing,
		})
	}
	return caches
}

func readLoadAvg() []float64 {
	loads := []float64{}
	for _, field := range strings.Fields(readTrimmed("/proc/loadavg")) {
		if len(loads) == 3 {
			break
		}
		value, err := strconv.ParseFloat(field, 64)
		if err != nil {
			break
		}
		loads = append(loads, value)
	}
	return loads
}

func rlimit(resource int) int64 {
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(resource, &limit); err != nil || limit.Cur > 1<<62 {
		return -1
	}
	return int64(limit.Cur)
}

func readLimits() limitsInfo {
	limits := limitsInfo{
		PidMax:            readLimit("/proc/sys/kernel/pid_max"),
		ThreadsMax:        readLimit("/proc/sys/kernel/threads-max"),
		MaxMapCount:       readLimit("/proc/sys/vm/max_map_count"),
		RlimitNproc:       rlimit(rlimitNproc),
		RlimitNofile:      rlimit(syscall.RLIMIT_NOFILE),
		MemTotalBytes:     -1,
		MemAvailableBytes: -1,
		CgroupPidsMax:     -1,
	}
	if meminfo, err := readKBTable("/proc/meminfo", "MemTotal", "MemAvailable"); err == nil {
		limits.MemTotalBytes = meminfo["MemTotal"]
		limits.MemAvailableBytes = meminfo["MemAvailable"]
	}
	limits.CgroupPidsMax = cgroupPidsMax(cgroupPidsDirs(readTrimmed("/proc/self/cgroup")))
	return limits
}

// gitCommit is the revision the Go toolchain stamped into the binary; the
// CMake build passes -buildvcs=false, so there it is "unknown" and the suite
// driver's own context says which commit was built.
func gitCommit() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, setting := range info.Settings {
			if setting.Key == "vcs.revision" {
				return setting.Value
			}
		}
	}
	return "unknown"
}

// collectContext describes this machine for a run with GOMAXPROCS = procs.
func collectContext(procs int, started time.Time, warnings []string) runContext {
	warnings = append([]string{}, warnings...) // never null in the JSON
	host, _ := os.Hostname()
	executable, _ := os.Executable()
	cpuinfo := readTrimmed("/proc/cpuinfo")
	mhz, _ := strconv.ParseFloat(cpuinfoField(cpuinfo, "cpu MHz"), 64)
	governor := readTrimmed("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
	if governor == "" {
		governor = "unknown"
		warnings = append(warnings, "cpufreq governor unknown (no cpufreq in sysfs, typical of VMs)")
	}
	if procs > runtime.NumCPU() {
		warnings = append(warnings, fmt.Sprintf("GOMAXPROCS=%d exceeds the %d CPUs this process may use", procs, runtime.NumCPU()))
	}
	gogc := os.Getenv("GOGC")
	if gogc == "" {
		gogc = "default"
	} else {
		warnings = append(warnings, "GOGC="+gogc+" set in the environment")
	}
	kernel := strings.TrimSpace(readTrimmed("/proc/sys/kernel/ostype") + " " + readTrimmed("/proc/sys/kernel/osrelease"))
	if kernel == "" {
		kernel = "unknown"
	}
	return runContext{
		Date:              started.Format(time.RFC3339),
		HostName:          host,
		Executable:        executable,
		NumCPUs:           runtime.NumCPU(),
		MHzPerCPU:         int(mhz),
		CPUScalingEnabled: governor != "unknown" && governor != "performance",
		Caches:            readCaches(),
		LoadAvg:           readLoadAvg(),
		LibraryBuildType:  "none",
		Greenbench: greenbenchInfo{
			FormatVersion: 1,
			Peer:          "go",
			Host:          host,
			Date:          started.UTC().Format(time.RFC3339),
			GitCommit:     gitCommit(),
			CPUModel:      cpuinfoField(cpuinfo, "model name"),
			CPUs:          runtime.NumCPU(),
			Kernel:        kernel,
			Compiler:      "gc " + runtime.Version(),
			Governor:      governor,
			Limits:        readLimits(),
			GoVersion:     runtime.Version(),
			GOMAXPROCS:    procs,
			GOGC:          gogc,
			Isolation:     "each repetition runs in a fresh child process",
			Warnings:      warnings,
		},
	}
}
