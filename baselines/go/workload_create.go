// workload_create.go is the create workload: what spawning a goroutine and
// waiting for it costs. mode:sequential spawns one goroutine and waits for it,
// N times; mode:batch spawns N and then waits for all of them.
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
	wall  time.Duration
	tasks int64 // goroutines that ran, counted by themselves
}

// runCreate spawns n goroutines, one at a time (batch false) or all at once.
func runCreate(batch bool, n int) createResult {
	var ran atomic.Int64
	var done sync.WaitGroup
	task := func() {
		ran.Add(1)
		done.Done()
	}
	start := time.Now()
	if batch {
		done.Add(n)
		for i := 0; i < n; i++ {
			go task()
		}
		done.Wait()
	} else {
		for i := 0; i < n; i++ {
			done.Add(1)
			go task()
			done.Wait()
		}
	}
	return createResult{wall: time.Since(start), tasks: ran.Load()}
}

func createFlags(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	mode := fs.String("mode", "sequential", "sequential (spawn, join, N times) or batch (spawn N, join all)")
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
			var tasks int64
			region, err := timedRuns(common.minTime, func() (time.Duration, error) {
				r := runCreate(batch, count)
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
				}, region.usage.perOp(perTask)...), region.gcCounters()...)}, nil
		}
		name := nameOf("create", common.procs, "mode:"+*mode, "n:"+strconv.Itoa(*n))
		return plan{name: name, timeUnit: "ns", measure: measure}, nil
	}
}
