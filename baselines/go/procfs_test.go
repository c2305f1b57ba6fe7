// procfs_test.go checks the /proc and /sys parsers on fixed text, and the
// readers once against this machine's real files.
package main

import (
	"strings"
	"testing"
)

func TestParseStatm(t *testing.T) {
	got, err := parseStatm("2560 640 300 1 0 500 0\n", 4096)
	if err != nil || got.vszBytes != 2560*4096 || got.rssBytes != 640*4096 {
		t.Fatalf("parseStatm = %+v, %v", got, err)
	}
	if _, err := parseStatm("12", 4096); err == nil {
		t.Fatal("parseStatm accepted one field")
	}
}

func TestParseKBTable(t *testing.T) {
	rollup := "5582f9a3c000-7ffd9b5fe000 ---p 00000000 00:00 0                          [rollup]\n" +
		"Rss:                1536 kB\nPss:                 900 kB\nHugePages_Total:       0\n"
	table := parseKBTable(rollup)
	if table["Rss"] != 1536*1024 || table["Pss"] != 900*1024 || table["HugePages_Total"] != 0 {
		t.Fatalf("parseKBTable = %v", table)
	}
	if len(table) != 3 {
		t.Fatalf("parseKBTable kept the header line: %v", table)
	}
}

func TestKernelMemoryIsPageTablesAndAKernelStackPerThread(t *testing.T) {
	got, err := parseKernelMemory("Name:\tgo\nVmPTE:\t      48 kB\nThreads:\t3\n")
	want := kernelMemory{pageTableBytes: 48 * 1024, threads: 3, kernelStackBytes: 3 * 16384}
	if err != nil || got != want || got.bytes() != 48*1024+3*16384 {
		t.Fatalf("parseKernelMemory = %+v, %v; want %+v", got, err, want)
	}
	if _, err := parseKernelMemory("VmPTE:\t48 kB\n"); err == nil {
		t.Fatal("parseKernelMemory accepted a status without Threads")
	}
}

func TestCountLines(t *testing.T) {
	for text, want := range map[string]int64{"": 0, "a\n": 1, "a\nb\n": 2, "a\nb": 2} {
		if got := countLines(text); got != want {
			t.Errorf("countLines(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	for text, want := range map[string]int{"0": 1, "0-1": 2, "0-3,8,10-11\n": 7, "": 0} {
		if got, err := parseCPUList(text); err != nil || got != want {
			t.Errorf("parseCPUList(%q) = %d, %v; want %d", text, got, err, want)
		}
	}
	if _, err := parseCPUList("3-1"); err == nil {
		t.Error("parseCPUList accepted a descending range")
	}
}

func TestParseLimit(t *testing.T) {
	for text, want := range map[string]int64{"32768\n": 32768, "max\n": -1, "": -1} {
		if got := parseLimit(text); got != want {
			t.Errorf("parseLimit(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestCgroupPidsDirsLeafToRoot(t *testing.T) {
	for text, want := range map[string]string{
		"9:name=systemd:/\n8:pids:/user.slice/session-1.scope\n0::/\n": "/sys/fs/cgroup/pids/user.slice/session-1.scope /sys/fs/cgroup/pids/user.slice /sys/fs/cgroup/pids",
		"0::/user.slice/session-1.scope\n":                             "/sys/fs/cgroup/user.slice/session-1.scope /sys/fs/cgroup/user.slice /sys/fs/cgroup",
		"8:pids:/\n":                                                   "/sys/fs/cgroup/pids",
		"4:memory:/x\n":                                                "",
		"":                                                             "",
	} {
		if got := strings.Join(cgroupPidsDirs(text), " "); got != want {
			t.Errorf("cgroupPidsDirs(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestReadersOnThisMachine(t *testing.T) {
	memory, err := readProcessMemory()
	if err != nil {
		t.Fatal(err)
	}
	if memory.rssBytes <= 0 || memory.pssBytes <= 0 || memory.vszBytes < memory.rssBytes || memory.kernel.pageTableBytes <= 0 || memory.kernel.threads < 1 {
		t.Fatalf("implausible reading %+v", memory)
	}
	if maps, err := mapCount(); err != nil || maps < 5 {
		t.Fatalf("mapCount = %d, %v", maps, err)
	}
}
