// procfs.go reads the kernel's view of this process and of the machine from
// /proc and /sys, and getrusage's counts: resident and virtual size, the
// per-process smaps rollup, system-wide kernel memory, the mapping count,
// limits, context switches and page faults.
//
// Invariant: every reader returns bytes (never kB or pages) or a plain count,
// and every parser is a pure function of the file's text, so that the tests
// can feed it fixed input; the readers only open the file and call the parser.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// pageSize is the unit of /proc/self/statm.
var pageSize = int64(os.Getpagesize())

// statm is /proc/self/statm in bytes. Its resident figure is cheap to read
// but approximate on recent kernels (per-CPU counters); smaps_rollup is exact.
type statm struct {
	vszBytes int64 // total program size (virtual)
	rssBytes int64 // resident set
}

// parseStatm reads the first two fields of /proc/<pid>/statm (pages).
func parseStatm(text string, page int64) (statm, error) {
	fields := strings.Fields(text)
	if len(fields) < 2 {
		return statm{}, fmt.Errorf("statm: want at least 2 fields, got %q", text)
	}
	size, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		return statm{}, fmt.Errorf("statm size: %w", err)
	}
	resident, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return statm{}, fmt.Errorf("statm resident: %w", err)
	}
	return statm{vszBytes: size * page, rssBytes: resident * page}, nil
}

func readStatm() (statm, error) {
	text, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return statm{}, err
	}
	return parseStatm(string(text), pageSize)
}

// parseKBTable parses "Key:   123 kB" lines (the format of /proc/meminfo and
// /proc/self/smaps_rollup) into bytes; a value without "kB" is a count and is
// kept as it is. Lines that do not have that shape (smaps_rollup's address
// header) are skipped.
func parseKBTable(text string) map[string]int64 {
	table := make(map[string]int64)
	scanner := bufio.NewScanner(strings.NewReader(text))
	for scanner.Scan() {
		key, rest, ok := strings.Cut(scanner.Text(), ":")
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		value, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		if len(fields) > 1 && fields[1] == "kB" {
			value *= 1024
		}
		table[strings.TrimSpace(key)] = value
	}
	return table
}

// readKBTable reads a kB table and checks that every key in want is present.
func readKBTable(path string, want ...string) (map[string]int64, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	table := parseKBTable(string(text))
	for _, key := range want {
		if _, ok := table[key]; !ok {
			return nil, fmt.Errorf("%s: no %s line", path, key)
		}
	}
	return table, nil
}

// kernelMemoryKeys are the /proc/meminfo lines that grow with tasks the kernel
// keeps for a process: thread stacks, page tables (host and secondary) and
// unreclaimable slab (task_struct and friends). SecPageTables is absent before
// Linux 6.1 and counts as zero there.
var kernelMemoryKeys = []string{"KernelStack", "PageTables", "SecPageTables", "SUnreclaim"}

// kernelBytes sums kernelMemoryKeys from a parsed /proc/meminfo. The figure is
// system-wide: other processes move it too.
func kernelBytes(meminfo map[string]int64) int64 {
	var sum int64
	for _, key := range kernelMemoryKeys {
		sum += meminfo[key]
	}
	return sum
}

// processUsage is what the kernel counted for the whole process (every
// thread): context switches a thread asked for by blocking or yielding
// (voluntary), those forced by preemption (involuntary), and minor page
// faults, and the CPU time of its threads (user + system, the runtime's own
// threads and GC included), from getrusage(RUSAGE_SELF), as the C++ suite's
// timing_support.h.
type processUsage struct {
	voluntary, involuntary, minorFaults, cpuNs int64
}

func readProcessUsage() processUsage {
	var r syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &r) != nil {
		return processUsage{}
	}
	return processUsage{voluntary: r.Nvcsw, involuntary: r.Nivcsw, minorFaults: r.Minflt,
		cpuNs: r.Utime.Nano() + r.Stime.Nano()}
}

func (u processUsage) since(before processUsage) processUsage {
	return processUsage{u.voluntary - before.voluntary, u.involuntary - before.involuntary,
		u.minorFaults - before.minorFaults, u.cpuNs - before.cpuNs}
}

// perOp is the counters of a change in usage, per operation.
func (u processUsage) perOp(operations float64) []counter {
	return []counter{
		{"voluntary_switches_per_op", float64(u.voluntary) / operations},
		{"involuntary_switches_per_op", float64(u.involuntary) / operations},
		{"minor_faults_per_op", float64(u.minorFaults) / operations},
		{"cpu_ns_per_op", float64(u.cpuNs) / operations},
	}
}

// resetPeakResident starts a new peak Rss: VmHWM becomes the present Rss
// (writes 5 to /proc/self/clear_refs, Linux 4.0+), as the C++ suite's
// harness/procfs.h does.
func resetPeakResident() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakResidentBytes is VmHWM of /proc/self/status: the peak Rss since the
// process started or since resetPeakResident.
func peakResidentBytes() (int64, error) {
	status, err := readKBTable("/proc/self/status", "VmHWM")
	if err != nil {
		return 0, err
	}
	return status["VmHWM"], nil
}

// processMemory is one reading of everything the memory workload reports.
type processMemory struct {
	rssBytes    int64 // smaps_rollup Rss (exact)
	pssBytes    int64 // smaps_rollup Pss (exact)
	vszBytes    int64 // statm size
	kernelBytes int64 // system-wide, see kernelBytes
}

func readProcessMemory() (processMemory, error) {
	rollup, err := readKBTable("/proc/self/smaps_rollup", "Rss", "Pss")
	if err != nil {
		return processMemory{}, err
	}
	sizes, err := readStatm()
	if err != nil {
		return processMemory{}, err
	}
	meminfo, err := readKBTable("/proc/meminfo", "KernelStack", "PageTables", "SUnreclaim")
	if err != nil {
		return processMemory{}, err
	}
	return processMemory{
		rssBytes:    rollup["Rss"],
		pssBytes:    rollup["Pss"],
		vszBytes:    sizes.vszBytes,
		kernelBytes: kernelBytes(meminfo),
	}, nil
}

// countLines counts newline-terminated lines (a final unterminated line counts).
func countLines(text string) int64 {
	n := int64(strings.Count(text, "\n"))
	if len(text) > 0 && !strings.HasSuffix(text, "\n") {
		n++
	}
	return n
}

// mapCount is the number of mappings of this process, the quantity that
// vm.max_map_count bounds.
func mapCount() (int64, error) {
	text, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	return countLines(string(text)), nil
}

// parseCPUList counts the CPUs in a kernel cpu list such as "0-3,8,10-11".
func parseCPUList(text string) (int, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return 0, nil
	}
	count := 0
	for _, part := range strings.Split(text, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil {
			return 0, fmt.Errorf("cpu list %q: %w", text, err)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil {
				return 0, fmt.Errorf("cpu list %q: %w", text, err)
			}
		}
		if last < first {
			return 0, fmt.Errorf("cpu list %q: descending range", text)
		}
		count += last - first + 1
	}
	return count, nil
}

// parseLimit reads a kernel limit file's text: a number, or "max" (= -1).
// Anything unreadable is -1 too, the results format's "unlimited/unknown".
func parseLimit(text string) int64 {
	text = strings.TrimSpace(text)
	value, err := strconv.ParseInt(text, 10, 64)
	if err != nil || value < 0 {
		return -1
	}
	return value
}

// readLimit is parseLimit of a file; -1 where the file cannot be read.
func readLimit(path string) int64 {
	text, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	return parseLimit(string(text))
}

// cgroupPidsMaxPath finds the pids.max file of this process's cgroup from the
// text of /proc/self/cgroup: the v1 "pids" controller's hierarchy if there is
// one, else the v2 unified hierarchy. Empty where neither is listed.
func cgroupPidsMaxPath(cgroupFile string) string {
	unified := ""
	for _, line := range strings.Split(cgroupFile, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, controller := range strings.Split(parts[1], ",") {
			if controller == "pids" {
				return "/sys/fs/cgroup/pids" + parts[2] + "/pids.max"
			}
		}
		if parts[0] == "0" && parts[1] == "" {
			unified = "/sys/fs/cgroup" + strings.TrimSuffix(parts[2], "/") + "/pids.max"
		}
	}
	return unified
}
