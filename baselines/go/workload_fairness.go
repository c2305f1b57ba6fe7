// workload_fairness.go is the fairness workload (benchmarks/workloads/workload_fairness.h):
// a ticker goroutine sleeps until each deadline of a 1 ms schedule over a window
// while hogs:K goroutines compute until the window ends, never yielding. Go
// preempts a running goroutine asynchronously (a signal, since Go 1.14) once it
// has run for 10 ms, and its timers fire on any P that schedules, so the
// ticker's lateness is bounded by that, not by the hogs' will.
//
//	lateness_p50_us, lateness_p99_us, lateness_max_us  wake-up past the deadline
//	ticks, ticks_missed, ticks_expected               deadlines served, skipped, in all
//	hog_work_per_second                               units of the hogs' work per second
//
// Invariant: ticks + ticks_missed == ticks_expected, or the repetition fails.
package main

import (
	"flag"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const tickPeriod = time.Millisecond

type fairnessResult struct {
	wall     time.Duration
	lateness []time.Duration // sorted
	missed   int64
	expected int64
	hogWork  int64
}

// burn is one unit of a hog's work: 256 dependent multiply-adds, as the C++ one.
func burn(x uint64) uint64 {
	for i := 0; i < 256; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

var burnSink atomic.Uint64

func runFairness(hogs int, window time.Duration) fairnessResult {
	expected := int64(window / tickPeriod)
	start := time.Now()
	end := start.Add(window)
	r := fairnessResult{expected: expected}
	var wg sync.WaitGroup
	wg.Add(1 + hogs)
	go func() {
		defer wg.Done()
		for k := int64(1); k <= expected; {
			deadline := start.Add(time.Duration(k) * tickPeriod)
			time.Sleep(time.Until(deadline))
			woke := time.Now()
			r.lateness = append(r.lateness, woke.Sub(deadline))
			next := k + 1
			if late := int64(woke.Sub(start)/tickPeriod) + 1; late > next {
				next = late
			}
			if next > expected+1 {
				r.missed += expected + 1 - (k + 1)
			} else {
				r.missed += next - (k + 1)
			}
			k = next
		}
	}()
	var work atomic.Int64
	for h := 0; h < hogs; h++ {
		go func(x uint64) {
			defer wg.Done()
			var done int64
			for time.Now().Before(end) {
				x = burn(x)
				done++
			}
			burnSink.Add(x)
			work.Add(done)
		}(uint64(h) + 1)
	}
	wg.Wait()
	r.wall = time.Since(start)
	r.hogWork = work.Load()
	sort.Slice(r.lateness, func(i, j int) bool { return r.lateness[i] < r.lateness[j] })
	return r
}

// fairnessCounters name figures(), in its order.
var fairnessCounters = []string{"lateness_p50_us", "lateness_p99_us", "lateness_max_us", "ticks", "ticks_missed",
	"ticks_expected", "hog_work_per_second"}

func (r fairnessResult) figures() []float64 {
	return []float64{nearestRank(r.lateness, 0.50), nearestRank(r.lateness, 0.99), nearestRank(r.lateness, 1),
		float64(len(r.lateness)), float64(r.missed), float64(r.expected), float64(r.hogWork) / r.wall.Seconds()}
}

// nearestRank is the nearest-rank percentile of sorted durations, in µs.
func nearestRank(sorted []time.Duration, q float64) float64 {
	rank := int(float64(len(sorted))*q + 0.999999999)
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return float64(sorted[rank-1].Nanoseconds()) / 1e3
}

func fairnessFlags(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	hogs := fs.Int("hogs", 2, "goroutines that compute without yielding")
	windowMs := fs.Int("window-ms", 200, "the ticker's window, in ms")
	return func() (plan, error) {
		if *hogs < 1 {
			return plan{}, usagef("-hogs must be at least 1, got %d", *hogs)
		}
		if *windowMs < 1 {
			return plan{}, usagef("-window-ms must be at least 1, got %d", *windowMs)
		}
		window := time.Duration(*windowMs) * time.Millisecond
		measure := func() (measurement, error) {
			// Each figure the mean over the timed runs (as the C++ rows' counters are over
			// their iterations).
			region, counters, sums, err := timedFigures(common.minTime, fairnessCounters,
				func() (time.Duration, []float64, error) {
					r := runFairness(*hogs, window)
					if int64(len(r.lateness))+r.missed != r.expected {
						return 0, nil, fmt.Errorf("%d ticks served and %d missed, %d expected", len(r.lateness), r.missed, r.expected)
					}
					return r.wall, r.figures(), nil
				})
			if err != nil {
				return measurement{}, err
			}
			ticks := sums[3] // served, over all the timed runs
			return measurement{RealTime: float64(region.mean().Nanoseconds()) / 1e6, CPUTime: region.cpuPerRun() / 1e6,
				Iterations: region.runs, Counters: append(append(counters, region.usage.perOp(ticks)...),
					region.gcCounters()...)}, nil
		}
		name := nameOf("fairness", common.procs, "via:spin", "hogs:"+strconv.Itoa(*hogs), "window:"+strconv.Itoa(*windowMs)+"ms")
		return plan{name: name, timeUnit: "ms", measure: measure}, nil
	}
}
