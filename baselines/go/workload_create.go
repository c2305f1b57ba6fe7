// workload_create.go is the create workload: what spawning a goroutine and
// waiting for it costs. mode:sequential spawns one goroutine and waits for it,
// N times; mode:batch spawns N that park on a gate until all have started,
// opens it and waits for all of them (docs/results-format.md). The warm-up run
// counts the goroutines live at once (peak_live_tasks).
//
// Each process times runs until -min-time has passed and reports their mean
// (workload.go's timedRuns).
//
// Invariant: the time covers spawn, run and join of all N goroutines, and the
// goroutines themselves count how many ran; a count other than N is an error.
package main

import (
	"flag"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type createResult struct {
	wall    time.Duration
	tasks   int64 // goroutines that ran, counted by themselves
	peakRSS int64 // the process's peak Rss over the run
}

// runCreate spawns n goroutines, one at a time (batch false) or as a batch:
// each parks on a gate once it has said so on arrived; when all n have
// arrived the gate opens and done waits for all of them, so all n (and their
// stacks) are live at once, as in the C++ workload. gauge, when set, counts
// the goroutines live at once.
func runCreate(batch bool, n int, gauge *liveGauge) (createResult, error) {
	var ran atomic.Int64
	var arrived, gate, done sync.WaitGroup
	// A goroutine leaves the gauge before it signals done: the waiter may spawn the next
	// at once, and a deferred leave would still count this one live.
	task := func() {
		gauge.enter()
		ran.Add(1)
		gauge.leave()
		done.Done()
	}
	gated := func() {
		gauge.enter()
		arrived.Done()
		gate.Wait()
		ran.Add(1)
		gauge.leave()
		done.Done()
	}
	if err := resetPeakResident(); err != nil {
		return createResult{}, err
	}
	start := time.Now()
	if batch {
		arrived.Add(n)
		gate.Add(1)
		done.Add(n)
		for i := 0; i < n; i++ {
			go gated()
		}
		arrived.Wait()
		gate.Done()
		done.Wait()
	} else {
		for i := 0; i < n; i++ {
			done.Add(1)
			go task()
			done.Wait()
		}
	}
	wall := time.Since(start)
	peak, err := peakResidentBytes()
	return createResult{wall: wall, tasks: ran.Load(), peakRSS: peak}, err
}

func createFlags(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	mode := fs.String("mode", "sequential", "sequential (spawn, join, N times) or batch (spawn N parked on a gate, release, join all)")
	n := fs.Int("n", 100000, "goroutines to create")
	return func() (plan, error) {
		if *mode != "sequential" && *mode != "batch" {
			return plan{}, usagef("-mode must be sequential or batch, got %q", *mode)
		}
		if *n < 1 {
			return plan{}, usagef("-n must be at least 1, got %d", *n)
		}
		batch, count := *mode == "batch", *n
		measure := func() (measurement, error) {
			var live warmUpGauge
			var tasks, peakRSS int64
			region, err := timedRuns(common.minTime, func() (time.Duration, error) {
				r, err := runCreate(batch, count, live.next())
				if err != nil {
					return 0, err
				}
				if r.peakRSS > peakRSS {
					peakRSS = r.peakRSS
				}
				if r.tasks != int64(count) {
					return 0, fmt.Errorf("%d goroutines ran, %d were spawned", r.tasks, count)
				}
				tasks = r.tasks
				return r.wall, nil
			})
			if err != nil {
				return measurement{}, err
			}
			wall := float64(region.mean().Nanoseconds())
			perTask := float64(tasks) * float64(region.runs)
			return measurement{RealTime: wall, CPUTime: region.cpuPerRun(), Iterations: region.runs,
				Counters: append(append([]counter{
					{"ns_per_task", wall / float64(count)},
					{"tasks", float64(tasks)},
					{"peak_live_tasks", live.peak()},
					{"peak_rss_bytes", float64(peakRSS)},
				}, region.usage.perOp(perTask)...), region.gcCounters()...)}, nil
		}
		name := nameOf("create", common.procs, "mode:"+*mode, "n:"+strconv.Itoa(*n))
		return plan{name: name, timeUnit: "ns", measure: measure}, nil
	}
}
