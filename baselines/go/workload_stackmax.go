// workload_stackmax.go is the stack_max workload: how far one goroutine's
// stack really grows. A grower process (this executable again, with
// stackGrowerEnv set) recurses in 1 KiB frames (atDepth's frames, with no
// bottom) and writes how deep it got on stdout after every MiB, until the Go
// runtime stops it with its fatal "goroutine stack exceeds N-byte limit".
// The measurement reads from the runtime's report N (max_stack_bytes: the
// limit it enforced, 1,000,000,000 bytes by default on 64-bit) and the bounds
// of the stack it refused to grow (largest_stack_bytes: the biggest stack the
// goroutine had; stacks grow by doubling, so it is the largest power of two
// within the limit), and from the grower the last depth it wrote
// (frame_bytes_reached: the frames it really held, a little below that).
//
// The grower is a separate process because a stack overflow is fatal in Go,
// not a panic. It holds up to 1.5 times the limit at its peak (the old and the
// new stack while the runtime copies one into the other), so the run refuses
// a limit whose 1.5 times exceeds -budget-bytes or MemAvailable.
//
// Invariant: a measurement is reported only when the grower died of that
// fatal error after writing at least one depth; any other end is an error.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"
)

// stackGrowerEnv marks the grower process; its value is the limit to set
// with debug.SetMaxStack, or "" for the runtime's default.
const stackGrowerEnv = "GREENBENCH_GO_STACK_GROWER"

const growerReportEvery = 1 << 20 // bytes of frames between two depth lines

// What the runtime writes when it refuses to grow a stack (runtime/stack.go).
var (
	stackLimitMessage  = regexp.MustCompile(`goroutine stack exceeds (\d+)-byte limit`)
	stackBoundsMessage = regexp.MustCompile(`stack=\[0x([0-9a-f]+), 0x([0-9a-f]+)\]`)
)

// growStack recurses without end, writing the depth every MiB.
//
//go:noinline
func growStack(depth int, out *os.File) uint64 {
	var frame [stackFrameBytes]byte
	touchFrame(&frame, depth)
	depth += stackFrameBytes
	if depth%growerReportEvery == 0 {
		fmt.Fprintf(out, "%d\n", depth)
	}
	return growStack(depth, out) + frameSum(&frame)
}

// runStackGrower is the grower process's whole life: it ends in the fatal
// error (or an error of its own, exit 1).
func runStackGrower(limit string) int {
	if limit != "" {
		bytes, err := strconv.Atoi(limit)
		if err != nil || bytes <= 0 {
			fmt.Fprintln(os.Stderr, "greenbench-go: bad", stackGrowerEnv, limit)
			return 1
		}
		debug.SetMaxStack(bytes)
	}
	done := make(chan uint64)
	go func() { done <- growStack(0, os.Stdout) }()
	fmt.Fprintln(os.Stderr, "greenbench-go: the stack stopped growing:", <-done)
	return 1
}

type stackMaxResult struct {
	limitBytes   int64 // from the runtime's fatal error
	stackBytes   int64 // the size of the stack it refused to grow
	reachedBytes int64 // the last depth the grower wrote
	wall         time.Duration
	cpu          time.Duration // the grower's user + system CPU time
}

// parseGrower reads a dead grower's output: the last depth on stdout and the
// limit in the runtime's message on stderr.
func parseGrower(stdout, stderr []byte) (stackMaxResult, error) {
	var r stackMaxResult
	lines := bufio.NewScanner(bytes.NewReader(stdout))
	for lines.Scan() {
		depth, err := strconv.ParseInt(lines.Text(), 10, 64)
		if err != nil || depth <= r.reachedBytes {
			return r, fmt.Errorf("the grower wrote %q where a growing depth belongs", lines.Text())
		}
		r.reachedBytes = depth
	}
	if r.reachedBytes == 0 {
		return r, fmt.Errorf("the grower wrote no depth; its stderr: %.300s", stderr)
	}
	found := stackLimitMessage.FindSubmatch(stderr)
	if found == nil {
		return r, fmt.Errorf("the grower did not die of a stack overflow; its stderr: %.300s", stderr)
	}
	r.limitBytes, _ = strconv.ParseInt(string(found[1]), 10, 64)
	bounds := stackBoundsMessage.FindSubmatch(stderr)
	if bounds == nil {
		return r, fmt.Errorf("the runtime's report names no stack bounds; its stderr: %.300s", stderr)
	}
	lo, _ := strconv.ParseInt(string(bounds[1]), 16, 64)
	hi, _ := strconv.ParseInt(string(bounds[2]), 16, 64)
	if r.stackBytes = hi - lo; r.stackBytes < r.reachedBytes {
		return r, fmt.Errorf("a stack of %d bytes cannot hold the %d bytes of frames written", r.stackBytes, r.reachedBytes)
	}
	return r, nil
}

func runStackMax(limit int64) (stackMaxResult, error) {
	self, err := os.Executable()
	if err != nil {
		return stackMaxResult{}, err
	}
	cmd := exec.Command(self)
	value := ""
	if limit > 0 {
		value = strconv.FormatInt(limit, 10)
	}
	cmd.Env = append(os.Environ(), stackGrowerEnv+"="+value)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	runErr := cmd.Run()
	wall := time.Since(began)
	if runErr == nil {
		return stackMaxResult{}, fmt.Errorf("the grower exited 0")
	}
	r, err := parseGrower(stdout.Bytes(), stderr.Bytes())
	r.wall = wall
	if cmd.ProcessState != nil {
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return r, err
}

// goDefaultMaxStack is the limit the runtime sets on 64-bit systems
// (runtime/proc.go: maxstacksize), which the grower meets when -limit-bytes
// is not given; it sizes the memory check only, the figure is measured.
const goDefaultMaxStack = 1_000_000_000

func stackMaxFlags(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	limit := fs.Int64("limit-bytes", 0, "set the grower's limit (debug.SetMaxStack) instead of measuring the runtime's default")
	budget := fs.Int64("budget-bytes", 2<<30, "refuse a run whose grower could hold more than this")
	return func() (plan, error) {
		if *limit < 0 {
			return plan{}, usagef("-limit-bytes must not be negative, got %d", *limit)
		}
		expected := int64(goDefaultMaxStack)
		if *limit > 0 {
			expected = *limit
		}
		peak := expected + expected/2
		if peak > *budget {
			return plan{}, usagef("the grower may hold %d bytes at its peak (1.5 x the limit), over -budget-bytes %d", peak, *budget)
		}
		if meminfo, err := readKBTable("/proc/meminfo", "MemAvailable"); err == nil && peak > meminfo["MemAvailable"] {
			return plan{}, usagef("the grower may hold %d bytes at its peak, over MemAvailable (%d bytes)",
				peak, meminfo["MemAvailable"])
		}
		given := *limit
		measure := func() (measurement, error) {
			r, err := runStackMax(given)
			if err != nil {
				return measurement{}, err
			}
			return measurement{RealTime: float64(r.wall.Microseconds()) / 1e3, CPUTime: float64(r.cpu.Microseconds()) / 1e3, Iterations: 1, Label: "bound:go_max_stack",
				Counters: []counter{
					{"max_stack_bytes", float64(r.limitBytes)},
					{"largest_stack_bytes", float64(r.stackBytes)},
					{"frame_bytes_reached", float64(r.reachedBytes)},
				}}, nil
		}
		var params []string
		if *limit > 0 {
			params = append(params, "limit:"+strconv.FormatInt(*limit, 10))
		}
		return plan{name: nameOf("stack_max", common.procs, params...), timeUnit: "ms", measure: measure}, nil
	}
}
