// workload_parallel.go holds the Go side of the C++ suite's
// benchmarks/workloads/workload_parallel.h, two scaling workloads of P = GOMAXPROCS
// goroutines at once with the work n fixed:
//
//	pairs  P independent ping-pong pairs, each two goroutines handing control
//	       to each other over two unbuffered channels, n/(2P) round trips
//	       each; ns_per_switch = wall / one-way hand-offs
//	fanin  P producers each send n/P values on one unbuffered channel to the
//	       receiver; ns_per_message = wall / messages
//
// The wall time covers starting the goroutines, the work and waiting for
// them; the warm-up run and the estimator are workload.go's timedRuns.
//
// Invariant: the goroutines count their hand-offs and the receiver its
// messages and their sum; a count or sum other than asked for is an error.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"
)

type parallelResult struct {
	wall         time.Duration
	done, want   int64
	sum, wantSum int64 // fanin only
}

func runPairs(p int, n int64) parallelResult {
	roundTrips := n / (2 * int64(p))
	counted := make([][2]int64, p)
	var finished sync.WaitGroup
	start := time.Now()
	finished.Add(2 * p)
	for i := 0; i < p; i++ {
		ping, pong := make(chan struct{}), make(chan struct{})
		go func(mine *[2]int64) {
			defer finished.Done()
			for r := int64(0); r < roundTrips; r++ {
				pong <- struct{}{}
				<-ping
				mine[0]++
			}
		}(&counted[i])
		go func(mine *[2]int64) {
			defer finished.Done()
			for r := int64(0); r < roundTrips; r++ {
				<-pong
				mine[1]++
				ping <- struct{}{}
			}
		}(&counted[i])
	}
	finished.Wait()
	r := parallelResult{wall: time.Since(start), want: 2 * roundTrips * int64(p)}
	for _, c := range counted {
		r.done += c[0] + c[1]
	}
	return r
}

func runFanin(p int, n int64) parallelResult {
	each := n / int64(p)
	values := make(chan int64)
	var finished sync.WaitGroup
	start := time.Now()
	finished.Add(p)
	for i := 0; i < p; i++ {
		go func() {
			defer finished.Done()
			for v := int64(1); v <= each; v++ {
				values <- v
			}
		}()
	}
	r := parallelResult{want: each * int64(p), wantSum: int64(p) * (each * (each + 1) / 2)}
	for ; r.done < r.want; r.done++ {
		r.sum += <-values
	}
	finished.Wait()
	r.wall = time.Since(start)
	return r
}

// parallelFlags makes the flags of pairs (fanin false) or fanin.
func parallelFlags(fanin bool) func(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	workload, per, counted := "pairs", "ns_per_switch", "switches"
	if fanin {
		workload, per, counted = "fanin", "ns_per_message", "messages"
	}
	return func(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
		n := fs.Int64("n", 50000, "one-way hand-offs (pairs) or messages (fanin) in all")
		return func() (plan, error) {
			if *n < 2*int64(common.procs) {
				return plan{}, usagef("-n must be at least 2 x -procs, got %d", *n)
			}
			work := *n
			measure := func() (measurement, error) {
				p := runtime.GOMAXPROCS(0)
				var done int64
				region, err := timedRuns(common.minTime, func() (time.Duration, error) {
					r := runPairs(p, work)
					if fanin {
						r = runFanin(p, work)
					}
					if r.done != r.want || r.sum != r.wantSum {
						return 0, fmt.Errorf("%d %s (want %d), sum %d (want %d)", r.done, counted, r.want, r.sum, r.wantSum)
					}
					done = r.done
					return r.wall, nil
				})
				if err != nil {
					return measurement{}, err
				}
				wall := float64(region.mean().Nanoseconds())
				return measurement{RealTime: wall / 1e6, CPUTime: region.cpuPerRun() / 1e6, Iterations: region.runs,
					Counters: append(append([]counter{
						{per, wall / float64(done)},
						{counted, float64(done)},
					}, region.usage.perOp(float64(done)*float64(region.runs))...), region.gcCounters()...)}, nil
			}
			name := nameOf(workload, common.procs, "n:"+strconv.FormatInt(*n, 10))
			return plan{name: name, timeUnit: "ms", measure: measure}, nil
		}
	}
}
