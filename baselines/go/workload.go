// workload.go holds what the timing workloads share: the one estimator they
// all use, the C++ suite's (Google Benchmark's) in its Go form.
//
// A process warms up with one unreported run, then times runs until minTime
// has passed (at least one) and reports their mean; each repetition is a
// fresh process (main.go). Nothing is forced between the warm-up and the
// timed runs: a runtime.GC() there would free the dead goroutines' cached
// stacks and the timed runs would allocate them again, which the C++
// runtimes, whose pools keep what the warm-up filled, never pay.
//
// Invariant: every figure of a timedRegion covers the same timed runs, all of
// them and nothing else: wall time, process CPU time (getrusage RUSAGE_SELF:
// every thread, the runtime's own included), switches, minor faults, and the
// garbage collector's cycles and pause time (runtime.MemStats).
package main

import (
	"runtime"
	"time"
)

// timedRegion is what the timed runs of one process cost, in all.
type timedRegion struct {
	runs    int64
	wall    time.Duration // the runs' own timed parts, summed
	usage   processUsage  // CPU time, switches and minor faults across the runs
	gcRuns  uint32        // garbage collection cycles completed across the runs
	gcPause time.Duration // stop-the-world pause time across the runs
}

// mean is the wall time of one run, the reported figure.
func (r timedRegion) mean() time.Duration { return r.wall / time.Duration(r.runs) }

// cpuPerRun is the process CPU time per run, in nanoseconds.
func (r timedRegion) cpuPerRun() float64 { return float64(r.usage.cpu.Nanoseconds()) / float64(r.runs) }

// gcCounters are the garbage collector's figures per run: gc_cycles_per_run
// and gc_pause_ns_per_run.
func (r timedRegion) gcCounters() []counter {
	return []counter{
		{"gc_cycles_per_run", float64(r.gcRuns) / float64(r.runs)},
		{"gc_pause_ns_per_run", float64(r.gcPause.Nanoseconds()) / float64(r.runs)},
	}
}

// timedRuns runs run once unreported (the warm-up), then again until minTime
// of timed wall time has passed, and returns what those timed runs cost. run
// returns the wall time of its own timed part; an error from any run is
// returned at once.
// timedFigures is timedRuns for workloads whose result is several figures (fairness,
// blocking): run returns its wall time and figures, and each figure comes back as a
// counter named by names, its mean over the timed runs (the warm-up's left out), with
// the sums over those runs.
func timedFigures(minTime time.Duration, names []string,
	run func() (time.Duration, []float64, error)) (timedRegion, []counter, []float64, error) {
	sums := make([]float64, len(names))
	warm := false
	region, err := timedRuns(minTime, func() (time.Duration, error) {
		wall, figures, err := run()
		if err != nil {
			return 0, err
		}
		if warm {
			for i, v := range figures {
				sums[i] += v
			}
		}
		warm = true
		return wall, nil
	})
	if err != nil {
		return timedRegion{}, nil, nil, err
	}
	counters := make([]counter, len(names))
	for i, name := range names {
		counters[i] = counter{name, sums[i] / float64(region.runs)}
	}
	return region, counters, sums, nil
}

func timedRuns(minTime time.Duration, run func() (time.Duration, error)) (timedRegion, error) {
	if _, err := run(); err != nil {
		return timedRegion{}, err
	}
	var gcBefore, gcAfter runtime.MemStats
	runtime.ReadMemStats(&gcBefore)
	before := readProcessUsage()
	var region timedRegion
	for region.runs == 0 || region.wall < minTime {
		wall, err := run()
		if err != nil {
			return timedRegion{}, err
		}
		region.runs++
		region.wall += wall
	}
	after := readProcessUsage()
	runtime.ReadMemStats(&gcAfter)
	region.usage = after.since(before)
	region.gcRuns = gcAfter.NumGC - gcBefore.NumGC
	region.gcPause = time.Duration(gcAfter.PauseTotalNs - gcBefore.PauseTotalNs)
	return region, nil
}
