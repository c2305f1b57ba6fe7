// workload_switch.go is the switch workload: the cost of one one-way switch
// from one goroutine to another.
//
//	via:yield   two goroutines call runtime.Gosched() in turn on GOMAXPROCS=1;
//	            every Gosched call is one switch.
//	via:handoff two goroutines ping-pong a value over unbuffered channels;
//	            a round trip is two switches.
//
// cpus:C runs it with GOMAXPROCS=C, so procs always equals cpus here. With
// GOMAXPROCS=2 Go's scheduler still prefers to run the woken goroutine on the
// waker's P (runnext), so cpus:2 measures what Go does given two Ps, not a
// forced cross-core wake. Goroutines cannot be placed on a P
// (runtime.LockOSThread ties one to an OS thread, not to a P), so Go has no
// place:same or place:cross row; the C++ fiber runtime has them (green::spawn_on
// pins a task to a worker). Yield is only defined for cpus:1: with two Ps each
// goroutine would yield to nobody.
//
// Invariant: ns_per_switch is wall time divided by one-way switches, and the
// switches are counted by the goroutines doing them.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"
)

type switchResult struct {
	wall     time.Duration
	switches int64 // one-way switches, counted by the goroutines
}

// runYield has two goroutines call runtime.Gosched switches/2 times each.
// It is a switch only when GOMAXPROCS is 1, which the caller sets.
func runYield(switches int) switchResult {
	start := make(chan struct{})
	calls := make([]int64, 2)
	var done sync.WaitGroup
	done.Add(2)
	for g := range calls {
		go func(count *int64) {
			defer done.Done()
			<-start
			var n int64
			for i := 0; i < switches/2; i++ {
				runtime.Gosched()
				n++
			}
			*count = n
		}(&calls[g])
	}
	began := time.Now()
	close(start)
	done.Wait()
	return switchResult{wall: time.Since(began), switches: calls[0] + calls[1]}
}

// runHandoff sends a counter back and forth over two unbuffered channels,
// switches/2 round trips; the echoing goroutine increments it.
func runHandoff(switches int) switchResult {
	ping, pong := make(chan int64), make(chan int64)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	var v int64
	began := time.Now()
	for i := 0; i < switches/2; i++ {
		ping <- v
		v = <-pong
	}
	wall := time.Since(began)
	close(ping)
	return switchResult{wall: wall, switches: 2 * v}
}

func switchFlags(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	via := fs.String("via", "handoff", "yield (runtime.Gosched, cpus 1 only) or handoff (unbuffered channels)")
	cpus := fs.Int("cpus", 1, "1 or 2: GOMAXPROCS for the run (-procs, if given, must agree)")
	switches := fs.Int("switches", 1000000, "one-way switches to time (even)")
	return func() (plan, error) {
		if *via != "yield" && *via != "handoff" {
			return plan{}, usagef("-via must be yield or handoff, got %q", *via)
		}
		if *cpus != 1 && *cpus != 2 {
			return plan{}, usagef("-cpus must be 1 or 2, got %d", *cpus)
		}
		if *via == "yield" && *cpus != 1 {
			return plan{}, usagef("-via yield is only defined for -cpus 1")
		}
		if *switches < 2 || *switches%2 != 0 {
			return plan{}, usagef("-switches must be even and at least 2, got %d", *switches)
		}
		procsGiven := false
		fs.Visit(func(f *flag.Flag) { procsGiven = procsGiven || f.Name == "procs" })
		if procsGiven && common.procs != *cpus {
			return plan{}, usagef("switch runs with GOMAXPROCS = -cpus; -procs %d contradicts -cpus %d", common.procs, *cpus)
		}
		common.procs = *cpus
		run, want := runHandoff, *switches
		if *via == "yield" {
			run = runYield
		}
		measure := func() (measurement, error) {
			region, err := timedRuns(common.minTime, func() (time.Duration, error) {
				r := run(want)
				if r.switches != int64(want) {
					return 0, fmt.Errorf("%d switches counted, %d asked", r.switches, want)
				}
				return r.wall, nil
			})
			if err != nil {
				return measurement{}, err
			}
			switches := float64(want) * float64(region.runs)
			perSwitch := float64(region.wall.Nanoseconds()) / switches
			return measurement{RealTime: perSwitch, CPUTime: float64(region.usage.cpu.Nanoseconds()) / switches,
				Iterations: int64(want) * region.runs, Counters: append(append([]counter{
					{"ns_per_switch", perSwitch},
					{"switches", float64(want)},
				}, region.usage.perOp(switches)...), region.gcCounters()...)}, nil
		}
		name := nameOf("switch", *cpus, "via:"+*via, "cpus:"+strconv.Itoa(*cpus))
		return plan{name: name, timeUnit: "ns", measure: measure}, nil
	}
}
