// procfs.go reads the kernel's view of this process and of the machine from
// /proc and /sys, and getrusage's counts: resident and virtual size, the
// per-process smaps rollup, the process's kernel memory, the mapping count,
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
	"time"
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

// kernelStackBytes is the kernel stack every thread (kernel task) has:
// THREAD_SIZE, 16 KiB on x86-64 and arm64 since Linux 3.15, as the C++ suite's
// procfs.h kKernelStackBytes. The kernel exports no per-process figure.
const kernelStackBytes = 16 * 1024

// kernelMemory is the kernel memory of this process that grows with its
// tasks, from /proc/self/status, by the C++ suite's definition (procfs.h):
// its page tables (VmPTE) and its kernel stacks (Threads x kernelStackBytes).
// Per process: other processes and an earlier child's deferred frees do not
// move it. Slab objects (task_struct) have no per-process account.
type kernelMemory struct {
	pageTableBytes   int64 // VmPTE
	threads          int64 // Threads
	kernelStackBytes int64 // threads * kernelStackBytes
}

func (k kernelMemory) bytes() int64 { return k.pageTableBytes + k.kernelStackBytes }

// parseKernelMemory reads VmPTE and Threads from a /proc/<pid>/status text.
func parseKernelMemory(statusText string) (kernelMemory, error) {
	status := parseKBTable(statusText)
	pte, hasPTE := status["VmPTE"]
	threads, hasThreads := status["Threads"]
	if !hasPTE || !hasThreads {
		return kernelMemory{}, fmt.Errorf("status: want VmPTE and Threads lines")
	}
	return kernelMemory{pageTableBytes: pte, threads: threads, kernelStackBytes: threads * kernelStackBytes}, nil
}

func readKernelMemory() (kernelMemory, error) {
	text, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return kernelMemory{}, err
	}
	return parseKernelMemory(string(text))
}

// processUsage is what the kernel counted for the whole process (every
// thread): context switches a thread asked for by blocking or yielding
// (voluntary), those forced by preemption (involuntary), minor page faults
// and user + system CPU time, from getrusage(RUSAGE_SELF), as the C++ suite's
// timing_support.h.
type processUsage struct {
	voluntary, involuntary, minorFaults int64
	cpu                                 time.Duration
}

func readProcessUsage() processUsage {
	var r syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &r) != nil {
		return processUsage{}
	}
	cpu := time.Duration(r.Utime.Nano() + r.Stime.Nano())
	return processUsage{voluntary: r.Nvcsw, involuntary: r.Nivcsw, minorFaults: r.Minflt, cpu: cpu}
}

func (u processUsage) since(before processUsage) processUsage {
	return processUsage{u.voluntary - before.voluntary, u.involuntary - before.involuntary,
		u.minorFaults - before.minorFaults, u.cpu - before.cpu}
}

// perOp is the counters of a change in usage, per operation.
func (u processUsage) perOp(operations float64) []counter {
	return []counter{
		{"voluntary_switches_per_op", float64(u.voluntary) / operations},
		{"involuntary_switches_per_op", float64(u.involuntary) / operations},
		{"minor_faults_per_op", float64(u.minorFaults) / operations},
	}
}

// processMemory is one reading of everything the memory workload reports.
type processMemory struct {
	rssBytes int64        // smaps_rollup Rss (exact)
	pssBytes int64        // smaps_rollup Pss (exact)
	vszBytes int64        // statm size
	kernel   kernelMemory // this process's page tables and kernel stacks
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
	kernel, err := readKernelMemory()
	if err != nil {
		return processMemory{}, err
	}
	return processMemory{
		rssBytes: rollup["Rss"],
		pssBytes: rollup["Pss"],
		vszBytes: sizes.vszBytes,
		kernel:   kernel,
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

// cgroupPidsDirs lists the pids cgroup directories of this process from the
// text of /proc/self/cgroup, leaf first, up to the hierarchy's root: the v1
// "pids" controller's hierarchy if there is one, else the v2 unified
// hierarchy; none where neither is listed. The C++ suite's system_limits.cpp
// and bench_all's machine.py read them the same way.
func cgroupPidsDirs(cgroupFile string) []string {
	root, path := "", ""
	for _, line := range strings.Split(cgroupFile, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		isPids := false
		for _, controller := range strings.Split(parts[1], ",") {
			isPids = isPids || controller == "pids"
		}
		if isPids {
			root, path = "/sys/fs/cgroup/pids", parts[2]
			break
		}
		if parts[0] == "0" && parts[1] == "" {
			root, path = "/sys/fs/cgroup", parts[2]
		}
	}
	if root == "" {
		return nil
	}
	var dirs []string
	for {
		path = strings.TrimSuffix(path, "/")
		dirs = append(dirs, root+path)
		if path == "" {
			return dirs
		}
		path = path[:strings.LastIndex(path, "/")]
	}
}

// cgroupPidsMax is the tightest pids.max of the directories, -1 where none
// is set ("max") or readable.
func cgroupPidsMax(dirs []string) int64 {
	tightest := int64(-1)
	for _, dir := range dirs {
		if limit := readLimit(dir + "/pids.max"); limit >= 0 && (tightest < 0 || limit < tightest) {
			tightest = limit
		}
	}
	return tightest
}
