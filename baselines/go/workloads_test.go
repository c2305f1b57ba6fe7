// workloads_test.go runs every workload in-process at small sizes and checks
// that it did the work it claims, and that the command line is validated
// (a usage error is what makes the program exit 2).
package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A batch holds all its goroutines live at once (parked on the gate); a
// sequential run one at a time.
func TestCreateRunsEveryTaskAndCountsThoseLiveAtOnce(t *testing.T) {
	for batch, wantLive := range map[bool]int64{false: 1, true: 5000} {
		var gauge liveGauge
		r, err := runCreate(batch, 5000, &gauge)
		if err != nil || r.tasks != 5000 || r.wall <= 0 || r.peakRSS <= 0 {
			t.Errorf("batch=%v: %+v, %v", batch, r, err)
		}
		if got := gauge.peak.Load(); got != wantLive {
			t.Errorf("batch=%v: %d goroutines live at once, want %d", batch, got, wantLive)
		}
	}
}

func TestWarmUpGaugeCountsTheFirstRunOnly(t *testing.T) {
	var w warmUpGauge
	first, second := w.next(), w.next()
	if first == nil || second != nil {
		t.Fatalf("next() = %v then %v, want a gauge then nil", first, second)
	}
	first.enter()
	first.enter()
	first.leave()
	second.enter() // a nil gauge counts nothing
	if w.peak() != 2 {
		t.Errorf("peak() = %v, want 2", w.peak())
	}
}

func TestPairsAndFaninCountEveryHandOffAndMessage(t *testing.T) {
	for _, p := range []int{1, 3} {
		if r := runPairs(p, 6000); r.done != r.want || r.want != 6000 {
			t.Errorf("runPairs(%d, 6000) = %+v", p, r)
		}
		if r := runFanin(p, 6000); r.done != 6000 || r.sum != r.wantSum || r.wantSum != int64(p)*(6000/int64(p))*(6000/int64(p)+1)/2 {
			t.Errorf("runFanin(%d, 6000) = %+v", p, r)
		}
	}
}

func TestSwitchCountsEverySwitch(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if r := runYield(2000); r.switches != 2000 {
		t.Errorf("yield: %+v", r)
	}
	if r := runHandoff(2000); r.switches != 2000 {
		t.Errorf("handoff: %+v", r)
	}
}

// inFreshProcess runs the calling test again, alone, in a new process of the test
// binary, and reports its outcome; it returns true in that process, where the test
// goes on. For tests that count what the runtime gains (threads, resident memory):
// threads left idle and heap left resident by earlier tests would serve them.
func inFreshProcess(t *testing.T) bool {
	const marker = "GREENBENCH_GO_TEST_ALONE"
	if os.Getenv(marker) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), marker+"="+t.Name())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s in a fresh process: %v\n%s", t.Name(), err, out)
	}
	return false
}

// Each thread the runtime starts costs it a signal stack (32 KiB) and, built
// without cgo, a system stack (8 KiB): 32 or 40 KiB of StackInuse a thread.
func TestThreadStackCountsTheRuntimesStacksPerThread(t *testing.T) {
	if !inFreshProcess(t) {
		return
	}
	r, err := runThreadStack(32)
	if err != nil {
		t.Fatal(err)
	}
	if r.threads < 16 || r.stackPerThread < 24<<10 || r.stackPerThread > 48<<10 {
		t.Errorf("runThreadStack(32) = %+v, want >= 16 new threads and 24 to 48 KiB of stack each", r)
	}
}

func TestSkynet(t *testing.T) {
	for _, viaJoin := range []bool{false, true} {
		var gauge liveGauge
		r, err := runSkynet(10000, viaJoin, &gauge)
		if err != nil || r.sum != 10000*9999/2 || r.tasks != 11111 || r.peakRSS <= 0 {
			t.Fatalf("runSkynet(10000, viaJoin=%v) = %+v, %v", viaJoin, r, err)
		}
		// The root and at least one chain down to a leaf were live at once.
		if live := gauge.peak.Load(); live < 5 || live > 11111 {
			t.Errorf("runSkynet(10000, viaJoin=%v): %d goroutines live at once, want 5 to 11111", viaJoin, live)
		}
	}
	if skynetTasks(1000000) != 1111111 {
		t.Errorf("skynetTasks(1e6) = %d", skynetTasks(1000000))
	}
	for n, want := range map[int64]bool{1: true, 10: true, 1000000: true, 0: false, 20: false, 999: false} {
		if isPowerOfDiv(n) != want {
			t.Errorf("isPowerOfDiv(%d) != %v", n, want)
		}
	}
}

func TestMemoryKeepsAllAlive(t *testing.T) {
	if !inFreshProcess(t) {
		return
	}
	r, err := runMemory(2000, 0, false)
	if err != nil || r.alive != 2000 {
		t.Fatalf("runMemory(2000) = %+v, %v", r, err)
	}
	if r.after.rssBytes <= r.before.rssBytes {
		t.Errorf("2000 parked goroutines left RSS unchanged: %+v", r)
	}
	if n := runtime.NumGoroutine(); n > 10 {
		t.Errorf("%d goroutines left after the workload", n)
	}
}

// Parked goroutines keep the stack they need and no more: the first 2 KiB
// without depth (the workload's own frames must not grow it), and a grown one
// under 16 KiB of frames. Go's own count of stack memory in use says so, as
// the workload records it; the note's heap count (MemStats.Alloc) sees the g
// and its closure only, a few hundred bytes, and only while there are no g's
// of exited goroutines to reuse (Go keeps them on a free list), so only for
// the first batch of the process. It is checked in a
// fresh process of this test binary, as the peer measures: Go 1.19 starts
// goroutines with the average stack size scanned so far, so after the other
// tests' goroutines even a shallow one may start bigger.
func TestParkedGoroutinesHoldTheStackTheyNeed(t *testing.T) {
	if os.Getenv(freshProcessEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestParkedGoroutinesHoldTheStackTheyNeed$", "-test.count=1")
		cmd.Env = append(os.Environ(), freshProcessEnv+"=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("in a fresh process: %v\n%s", err, out)
		}
		return
	}
	const n = 4000
	for _, c := range []struct{ depth, low, high uint64 }{{0, 2 << 10, 3 << 10}, {16 << 10, 17 << 10, 32 << 10}} {
		r, err := runMemory(n, int(c.depth), false)
		if err != nil {
			t.Fatal(err)
		}
		perTask := (r.goAfter.StackInuse - r.goBefore.StackInuse) / n
		if perTask < c.low || perTask > c.high {
			t.Errorf("depth %d: %d B of stack per parked goroutine, want %d to %d", c.depth, perTask, c.low, c.high)
		}
		heap := (r.goAfter.Alloc - r.goBefore.Alloc) / n
		if c.depth == 0 && (heap < 256 || heap > 1024) {
			t.Errorf("depth %d: %d B of heap per parked goroutine, want 256 to 1024", c.depth, heap)
		}
	}
}

// A goroutine that recursed through 64 KiB of frames and returned parks on the
// 128 KiB stack it grew to; each collection halves it (it uses under a quarter),
// so one GC leaves 64 KiB and more bring it down to a few KiB, and the reading
// after them says how many ran. Go's StackInuse is the runtime's own account and
// moves with the collections alone, whatever the scavenger has returned yet.
func TestRecursedGoroutinesStacksShrinkAtEachGC(t *testing.T) {
	const n = 500
	r, err := runMemory(n, 64<<10, true)
	if err != nil || r.alive != n {
		t.Fatalf("runMemory(%d, 64 KiB, returned) = %+v, %v", n, r, err)
	}
	perTask := func(after runtime.MemStats) uint64 { return (after.StackInuse - r.goBefore.StackInuse) / n }
	right, one, settled := perTask(r.goAfter), perTask(r.goAfter1GC), perTask(r.goSettled)
	if right < 64<<10 || one > right*3/4 || settled > one/4 {
		t.Errorf("stack per goroutine: %d B right after, %d after one GC, %d settled; want >= 64 KiB, "+
			"then at most 3/4 of it, then at most a quarter of that", right, one, settled)
	}
	if r.gcRuns < 3 || r.gcRuns > maxSettleGCs {
		t.Errorf("%d collections until the stacks settled, want 3 to %d", r.gcRuns, maxSettleGCs)
	}
}

// freshProcessEnv marks a test binary started by a test that needs a process
// of its own.
const freshProcessEnv = "GREENBENCH_GO_TEST_FRESH_PROCESS"

func TestMaxCountStopsAtTheCap(t *testing.T) {
	r, err := runMaxCount(maxCountLimits{budgetBytes: 1 << 40, limit: 10000, timeLimit: 1 << 40})
	if err != nil || r.tasks != 10000 || r.bound != "cap" || r.maps <= 0 {
		t.Fatalf("runMaxCount = %+v, %v", r, err)
	}
}

func TestMaxCountStopsAtTheBudget(t *testing.T) {
	r, err := runMaxCount(maxCountLimits{budgetBytes: 1, limit: 10000, timeLimit: 1 << 40})
	if err != nil || r.tasks != 0 || r.bound != "memory_budget" {
		t.Fatalf("runMaxCount = %+v, %v", r, err)
	}
}

// The estimator times runs until the minimum time has passed, after one
// unreported warm-up, and every figure covers the timed runs only.
func TestTimedRunsTimeUntilTheMinimumAndCountEveryRun(t *testing.T) {
	var walls []time.Duration
	region, err := timedRuns(30*time.Millisecond, func() (time.Duration, error) {
		began := time.Now()
		for time.Since(began) < 5*time.Millisecond {
		}
		walls = append(walls, time.Since(began))
		return walls[len(walls)-1], nil
	})
	if err != nil || region.runs < 1 || int64(len(walls)) != region.runs+1 {
		t.Fatalf("timedRuns = %+v, %v after %d calls; want one warm-up and the timed runs", region, err, len(walls))
	}
	var timed time.Duration
	for _, w := range walls[1:] {
		timed += w
	}
	if timed != region.wall || region.wall < 30*time.Millisecond || region.wall-walls[len(walls)-1] >= 30*time.Millisecond {
		t.Errorf("timed %v over %d runs, want the first runs to reach 30 ms: %+v", timed, region.runs, region)
	}
	if region.usage.cpu <= 0 || region.mean() != region.wall/time.Duration(region.runs) {
		t.Errorf("busy runs took no CPU time, or the mean is off: %+v", region)
	}
	if _, err := timedRuns(time.Second, func() (time.Duration, error) { return 0, errors.New("bad run") }); err == nil {
		t.Error("a failed run was not reported")
	}
}

func TestSecondsFlag(t *testing.T) {
	for text, want := range map[string]time.Duration{"60": time.Minute, "0.25": 250 * time.Millisecond, "90s": 90 * time.Second, "1m": time.Minute} {
		var s secondsFlag
		if err := s.Set(text); err != nil || time.Duration(s) != want {
			t.Errorf("Set(%q) = %v, %v; want %v", text, time.Duration(s), err, want)
		}
	}
}

func TestExceedsBudget(t *testing.T) {
	if exceedsBudget(100, 100, 0, 1000) {
		t.Error("nothing spawned, well under budget")
	}
	// 1000 bytes per task so far: checkEvery more would add 4,096,000.
	if !exceedsBudget(2000000, 1000000, 1000, 5000000) {
		t.Error("the next batch would pass the budget")
	}
}

func TestParseCommand(t *testing.T) {
	good := map[string]string{
		"skynet -n 1000 -procs 2":               "skynet/go/procs:2/via:channel/n:1000",
		"skynet -n 1000 -via join -procs 1":     "skynet/go/procs:1/via:join/n:1000",
		"create -mode batch -n 7 -procs 1":      "create/go/procs:1/mode:batch/n:7",
		"pairs -n 400 -procs 4":                 "pairs/go/procs:4/n:400",
		"fanin -procs 2":                        "fanin/go/procs:2/n:50000",
		"switch -via yield -cpus 1":             "switch/go/procs:1/via:yield/cpus:1",
		"switch -via handoff -cpus 2":           "switch/go/procs:2/via:handoff/cpus:2",
		"memory -n 10 -procs 2 -reps 3":         "memory/go/procs:2/n:10",
		"max_count -cap 5 -procs 1 -out x.json": "max_count/go/procs:1",
		"max_count -time-limit 30s -procs 2":    "max_count/go/procs:2",
		"max_count -time-limit 0.5 -procs 2":    "max_count/go/procs:2",
		"create -n 7 -procs 1 -gogc off":        "create/go/procs:1/gogc:off/mode:sequential/n:7",
		"max_count -procs 1 -gogc off":          "max_count/go/procs:1/gogc:off",
		"skynet -n 10 -procs 1 -min-time 0.01":  "skynet/go/procs:1/via:channel/n:10",
	}
	for args, name := range good {
		p, _, err := parseCommand(strings.Fields(args), io.Discard)
		if err != nil || p.name != name {
			t.Errorf("%q: name %q, err %v; want %q", args, p.name, err, name)
		}
	}
	bad := []string{
		"", "fly", "skynet -n 12", "skynet -bogus", "create -mode both", "create -n 0",
		"switch -via yield -cpus 2", "switch -cpus 3", "switch -cpus 1 -procs 2",
		"memory -reps 0", "memory -procs 0", "skynet extra", "skynet -via pipe", "pairs -n 3 -procs 2", "max_count -time-limit 0",
		"max_count -time-limit soon", "max_count -time-limit -1s", "create -gogc maybe", "create -min-time 0",
	}
	for _, args := range bad {
		_, _, err := parseCommand(strings.Fields(args), io.Discard)
		var usage usageError
		if !errors.As(err, &usage) {
			t.Errorf("%q: err %v, want a usage error", args, err)
		}
	}
}

// A grower's output is a measurement only when it grew and then died of the
// runtime's stack limit.
func TestParseGrower(t *testing.T) {
	overflow := []byte("runtime: goroutine stack exceeds 1000000000-byte limit\n" +
		"runtime: sp=0xc0200e05e0 stack=[0xc0200e0000, 0xc0400e0000]\nfatal error: stack overflow\n")
	r, err := parseGrower([]byte("1048576\n2097152\n"), overflow)
	if err != nil || r.limitBytes != 1000000000 || r.stackBytes != 512<<20 || r.reachedBytes != 2097152 {
		t.Errorf("parseGrower = %+v, %v", r, err)
	}
	for name, out := range map[string][2]string{
		"no depth":          {"", string(overflow)},
		"another death":     {"1048576\n", "fatal error: out of memory\n"},
		"depth not rising":  {"2097152\n1048576\n", string(overflow)},
		"not a number":      {"deep\n", string(overflow)},
		"no bounds":         {"1048576\n", "runtime: goroutine stack exceeds 1000000000-byte limit\n"},
		"frames over stack": {"1073741824\n", string(overflow)},
	} {
		if _, err := parseGrower([]byte(out[0]), []byte(out[1])); err == nil {
			t.Errorf("%s: parseGrower accepted stdout %q, stderr %q", name, out[0], out[1])
		}
	}
}
