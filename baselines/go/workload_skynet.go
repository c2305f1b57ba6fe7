// workload_skynet.go is the skynet benchmark (atemerev/skynet, Go version):
// a goroutine of size S > 1 spawns div = 10 children of size S/10 and sums what
// they send back over its own unbuffered channel; a goroutine of size 1 sends
// its ordinal. With N = 1,000,000 leaves that is six levels and 1,111,111
// goroutines, and the sum is N(N-1)/2 = 499,999,500,000.
//
// The only change from the reference is that each goroutine also sends back
// how many goroutines its subtree ran, so that tasks is counted, not assumed;
// the channel element is two int64s instead of one int. That is -via channel
// (named via:channel); -via join is the C++ suite's default shape, for rows
// that compare like with like: each child writes its subtree into a slot of
// its parent's array and the parent waits for all ten on a sync.WaitGroup.
//
// Invariant: N is a power of 10 (so every level divides exactly), and a sum or
// a goroutine count other than the closed form is an error.
package main

import (
	"flag"
	"fmt"
	"strconv"
	"sync"
	"time"
)

const skynetDiv = 10

type skynetSubtree struct {
	sum   int64 // sum of the leaf ordinals
	tasks int64 // goroutines run, this one included
}

func skynet(out chan<- skynetSubtree, num, size int64) {
	if size == 1 {
		out <- skynetSubtree{sum: num, tasks: 1}
		return
	}
	children := make(chan skynetSubtree)
	for i := int64(0); i < skynetDiv; i++ {
		go skynet(children, num+i*(size/skynetDiv), size/skynetDiv)
	}
	total := skynetSubtree{tasks: 1}
	for i := 0; i < skynetDiv; i++ {
		child := <-children
		total.sum += child.sum
		total.tasks += child.tasks
	}
	out <- total
}

// skynetJoin is the same tree with each result written into the parent's
// slot for it; the parent waits on a WaitGroup instead of a channel.
func skynetJoin(out *skynetSubtree, num, size int64) {
	if size == 1 {
		*out = skynetSubtree{sum: num, tasks: 1}
		return
	}
	var children [skynetDiv]skynetSubtree
	var done sync.WaitGroup
	done.Add(skynetDiv)
	for i := int64(0); i < skynetDiv; i++ {
		go func(slot *skynetSubtree, first int64) {
			skynetJoin(slot, first, size/skynetDiv)
			done.Done()
		}(&children[i], num+i*(size/skynetDiv))
	}
	done.Wait()
	total := skynetSubtree{tasks: 1}
	for _, child := range children {
		total.sum += child.sum
		total.tasks += child.tasks
	}
	*out = total
}

// skynetTasks is the number of goroutines for n leaves: n + n/10 + ... + 1.
func skynetTasks(n int64) int64 {
	total := int64(0)
	for ; n >= 1; n /= skynetDiv {
		total += n
	}
	return total
}

func isPowerOfDiv(n int64) bool {
	for n > 1 && n%skynetDiv == 0 {
		n /= skynetDiv
	}
	return n == 1
}

type skynetResult struct {
	wall time.Duration
	skynetSubtree
}

func runSkynet(n int64, viaJoin bool) (skynetResult, error) {
	var result skynetSubtree
	began := time.Now()
	if viaJoin {
		var done sync.WaitGroup
		done.Add(1)
		go func() {
			skynetJoin(&result, 0, n)
			done.Done()
		}()
		done.Wait()
	} else {
		root := make(chan skynetSubtree)
		go skynet(root, 0, n)
		result = <-root
	}
	wall := time.Since(began)
	if want := n * (n - 1) / 2; result.sum != want {
		return skynetResult{}, fmt.Errorf("sum %d, want %d", result.sum, want)
	}
	if want := skynetTasks(n); result.tasks != want {
		return skynetResult{}, fmt.Errorf("%d goroutines ran, want %d", result.tasks, want)
	}
	return skynetResult{wall: wall, skynetSubtree: result}, nil
}

func skynetFlags(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	n := fs.Int64("n", 1000000, "leaves, a power of 10")
	via := fs.String("via", "channel", "how a child's result reaches its parent: channel (the original) or join")
	return func() (plan, error) {
		if *n < 1 || !isPowerOfDiv(*n) {
			return plan{}, usagef("-n must be a power of 10, got %d", *n)
		}
		if *via != "channel" && *via != "join" {
			return plan{}, usagef("-via must be channel or join, got %q", *via)
		}
		leaves, viaJoin := *n, *via == "join"
		measure := func() (measurement, error) {
			var last skynetResult
			region, err := timedRuns(common.minTime, func() (time.Duration, error) {
				r, err := runSkynet(leaves, viaJoin)
				last = r
				return r.wall, err
			})
			if err != nil {
				return measurement{}, err
			}
			ms := float64(region.mean().Nanoseconds()) / 1e6
			return measurement{RealTime: ms, CPUTime: region.cpuPerRun() / 1e6, Iterations: region.runs,
				Counters: append(append([]counter{
					{"ms_wall", ms},
					{"ns_per_task", float64(region.mean().Nanoseconds()) / float64(last.tasks)},
					{"sum", float64(last.sum)},
					{"tasks", float64(last.tasks)},
				}, region.usage.perOp(float64(last.tasks)*float64(region.runs))...), region.gcCounters()...)}, nil
		}
		name := nameOf("skynet", common.procs, "via:"+*via, "n:"+strconv.FormatInt(*n, 10))
		return plan{name: name, timeUnit: "ms", measure: measure}, nil
	}
}
