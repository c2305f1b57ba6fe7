// Command greenbench-go is greenbench's Go peer: the suite's workloads
// (create, switch, memory, max_count, skynet, stack_max) written with real goroutines,
// by the same definitions as the C++ ones, reporting in greenbench's results
// format (docs/results-format.md).
//
//	greenbench-go <workload> [flags]     (greenbench-go <workload> -h lists them)
//	greenbench-go echo-server [flags]    (the echo benchmark's server, echo_server.go)
//
// Design. Every repetition runs in a fresh child process: the parent re-runs
// this executable with the same arguments and GREENBENCH_GO_REPETITION set,
// the child sets GOMAXPROCS, measures once and hands its measurement back as
// gob on stdout. Go never frees a goroutine's g struct and keeps stacks in
// caches, so a second measurement in the same process would reuse what the
// first left behind: memory figures would read near zero and timings would
// mix warm and cold states. Timing workloads run their workload once,
// unreported, before the measured run (warm-up), in that child.
//
// Invariants: each workload counts the work its goroutines actually did and
// fails (exit 1, no results) if the count differs from what was asked; bad
// flags or an unknown workload exit 2 with a message on stderr; only
// "iteration" entries are written, the suite driver adds the aggregates.
package main

import (
	"bytes"
	"encoding/gob"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
)

// repetitionEnv marks a child process and carries its repetition index.
const repetitionEnv = "GREENBENCH_GO_REPETITION"

// commonFlags are the flags every workload takes.
type commonFlags struct {
	procs   int           // GOMAXPROCS, recorded in the name and the context
	reps    int           // repetitions, each in a fresh process
	out     string        // results file; "" or "-" is stdout
	minTime time.Duration // timing workloads: time runs until this much has passed
	gogcOff bool          // the garbage collector off (debug.SetGCPercent(-1)): gogc:off
}

// plan is a parsed, validated command: what to name the results and how to
// measure one repetition.
type plan struct {
	name     string // entry name, e.g. "skynet/go/procs:2/n:1000000"
	timeUnit string // unit of measurement.RealTime
	procs    int
	gogcOff  bool
	measure  func() (measurement, error) // one repetition, warm-up included
	warnings []string                    // for context.greenbench.warnings
}

// workload is one subcommand: flags registers its flags and returns the
// function that, once they are parsed, validates them and makes the plan.
type workload struct {
	summary string
	flags   func(fs *flag.FlagSet, common *commonFlags) func() (plan, error)
}

var workloads = map[string]workload{
	"create":       {"spawn and join goroutines, one at a time or in a batch", createFlags},
	"switch":       {"one-way switch between two goroutines: Gosched or channel hand-off", switchFlags},
	"memory":       {"memory per parked goroutine: RSS, PSS, VSZ and kernel deltas", memoryFlags},
	"max_count":    {"spawn parked goroutines until a memory budget, cap or time limit", maxCountFlags},
	"skynet":       {"the skynet benchmark: a 10-ary tree of goroutines summing leaf ordinals", skynetFlags},
	"stack_max":    {"how far one goroutine's stack grows before the runtime stops it", stackMaxFlags},
	"thread_stack": {"the runtime's own stacks (system and signal) per OS thread it runs", threadStackFlags},
}

// usageError is a command-line mistake: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

func topUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: greenbench-go <workload> [flags]")
	fmt.Fprintln(w, "common flags: -procs P (GOMAXPROCS) -reps R (repetitions) -out FILE (default stdout)")
	fmt.Fprintln(w, "workloads:")
	names := make([]string, 0, len(workloads))
	for name := range workloads {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-11s %s\n", name, workloads[name].summary)
	}
	fmt.Fprintln(w, "server (no results, no repetitions; see docs/echo-protocol.md):")
	fmt.Fprintf(w, "  %-11s %s\n", echoServerCommand, "goroutine-per-connection echo and HTTP server: -procs P -addr HOST:PORT")
}

// parseCommand turns the arguments after the program name into a plan.
func parseCommand(args []string, stderr io.Writer) (plan, commonFlags, error) {
	var common commonFlags
	if len(args) == 0 {
		topUsage(stderr)
		return plan{}, common, usagef("no workload given")
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		topUsage(stderr)
		return plan{}, common, flag.ErrHelp
	}
	w, ok := workloads[args[0]]
	if !ok {
		topUsage(stderr)
		return plan{}, common, usagef("unknown workload %q", args[0])
	}
	fs := flag.NewFlagSet("greenbench-go "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&common.procs, "procs", runtime.NumCPU(), "GOMAXPROCS (recorded as procs:P in the name)")
	fs.IntVar(&common.reps, "reps", 1, "repetitions, each measured in a fresh process")
	fs.StringVar(&common.out, "out", "", "write the results JSON to this file (default stdout)")
	minTime := secondsFlag(500 * time.Millisecond)
	fs.Var(&minTime, "min-time", "timing workloads: time runs until this long has passed and report their mean: seconds (0.5) or a Go duration")
	gogc := fs.String("gogc", "on", "on, or off: the garbage collector off in the measuring process (gogc:off in the name), a control row")
	makePlan := w.flags(fs, &common)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return plan{}, common, err
		}
		return plan{}, common, usageError{err.Error()}
	}
	if fs.NArg() != 0 {
		return plan{}, common, usagef("unexpected argument %q", fs.Arg(0))
	}
	if common.procs < 1 {
		return plan{}, common, usagef("-procs must be at least 1, got %d", common.procs)
	}
	if common.reps < 1 {
		return plan{}, common, usagef("-reps must be at least 1, got %d", common.reps)
	}
	if minTime <= 0 {
		return plan{}, common, usagef("-min-time must be positive")
	}
	if *gogc != "on" && *gogc != "off" {
		return plan{}, common, usagef("-gogc must be on or off, got %q", *gogc)
	}
	common.minTime, common.gogcOff = time.Duration(minTime), *gogc == "off"
	p, err := makePlan()
	if err != nil {
		return plan{}, common, err
	}
	p.procs = common.procs
	if common.gogcOff {
		p.name = withRuntimeParam(p.name, "gogc:off")
		p.gogcOff = true
	}
	return p, common, nil
}

// runChild measures one repetition and writes it to stdout as gob.
func runChild(p plan) error {
	runtime.GOMAXPROCS(p.procs)
	if p.gogcOff {
		debug.SetGCPercent(-1)
	}
	m, err := p.measure()
	if err != nil {
		return err
	}
	return gob.NewEncoder(os.Stdout).Encode(m)
}

// measureInChild runs repetition index in a fresh process of this executable.
func measureInChild(args []string, index int) (measurement, error) {
	self, err := os.Executable()
	if err != nil {
		return measurement{}, err
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), repetitionEnv+"="+strconv.Itoa(index))
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return measurement{}, fmt.Errorf("repetition %d: %w", index, err)
	}
	var m measurement
	if err := gob.NewDecoder(&stdout).Decode(&m); err != nil {
		return measurement{}, fmt.Errorf("repetition %d: reading its result: %w", index, err)
	}
	return m, nil
}

func writeResults(path string, p plan, started time.Time, ms []measurement) error {
	entries := make([]entry, len(ms))
	for i, m := range ms {
		entries[i] = entry{name: p.name, repetitions: len(ms), repetitionIndex: i, timeUnit: p.timeUnit, measurement: m}
	}
	context := collectContext(p.procs, started, p.warnings)
	if path == "" || path == "-" {
		return writeDocument(os.Stdout, context, entries)
	}
	// Write beside the target, then rename: a failed run never leaves a
	// truncated file where a reader expects results.
	tmp := strings.TrimSuffix(path, ".json") + ".partial.json"
	file, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := writeDocument(file, context, entries); err != nil {
		file.Close()
		os.Remove(tmp)
		return err
	}
	if err := file.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func run(args []string) int {
	if limit, isGrower := os.LookupEnv(stackGrowerEnv); isGrower {
		return runStackGrower(limit)
	}
	if len(args) > 0 && args[0] == echoServerCommand {
		return runEchoServer(args[1:], os.Stdin, os.Stdout, os.Stderr)
	}
	p, common, err := parseCommand(args, os.Stderr)
	var usage usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "greenbench-go:", usage.msg)
		return 2
	case err != nil:
		fmt.Fprintln(os.Stderr, "greenbench-go:", err)
		return 2
	}
	if _, isChild := os.LookupEnv(repetitionEnv); isChild {
		if err := runChild(p); err != nil {
			fmt.Fprintf(os.Stderr, "greenbench-go: %s: %v\n", p.name, err)
			return 1
		}
		return 0
	}
	started := time.Now()
	ms := make([]measurement, common.reps)
	for i := range ms {
		if ms[i], err = measureInChild(args, i); err != nil {
			fmt.Fprintf(os.Stderr, "greenbench-go: %s: %v\n", p.name, err)
			return 1
		}
	}
	if err := writeResults(common.out, p, started, ms); err != nil {
		fmt.Fprintln(os.Stderr, "greenbench-go: writing results:", err)
		return 1
	}
	return 0
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// nameOf builds "workload/go/procs:P/param:value..." from its parts.
func nameOf(workload string, procs int, params ...string) string {
	return strings.Join(append([]string{workload, "go", "procs:" + strconv.Itoa(procs)}, params...), "/")
}

// withRuntimeParam adds a runtime parameter after procs:P, before the
// workload's parameters: "create/go/procs:1/gogc:off/mode:batch/n:10".
func withRuntimeParam(name, param string) string {
	parts := strings.SplitN(name, "/", 4)
	return strings.Join(append(parts[:3], append([]string{param}, parts[3:]...)...), "/")
}
