// workload_blocking.go is the blocking workload (benchmarks/workloads/workload_blocking.h):
// blockers:B goroutines each make one blocking system call after another
// (read of a blocking pipe fed each ms, nanosleep of 1 ms, or a 4 KiB write and
// fsync of an unlinked temporary file) while a ping-pong pair passes a value
// over unbuffered channels for a window. The calls are raw system calls that
// the netpoller cannot park: Go hands the goroutine's P to another thread
// when a call blocks (at once, or when sysmon sees it 20 µs in), so the pair
// keeps its Ps. Go needs no via:blocking: via:direct is its hand-off.
//
//	round_trips_per_second, round_trip_p50_us, round_trip_p99_us, round_trip_max_us
//	blocking_calls_per_second
//
// Invariant: every round trip counted was timed, and every blocker has returned
// from its last call before the repetition ends.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const callPeriod = time.Millisecond

type blockingResult struct {
	wall  time.Duration
	rtts  []time.Duration // sorted
	calls int64
}

// blocker is what one blocking goroutine blocks on.
type blocker struct {
	call string
	pipe [2]int
	file int
}

func newBlocker(call string) (*blocker, error) {
	b := &blocker{call: call, pipe: [2]int{-1, -1}, file: -1}
	switch call {
	case "read":
		if err := syscall.Pipe2(b.pipe[:], syscall.O_CLOEXEC); err != nil {
			return nil, fmt.Errorf("pipe2: %w", err)
		}
	case "fsync":
		f, err := os.CreateTemp("", "greenbench-blocking-")
		if err != nil {
			return nil, err
		}
		os.Remove(f.Name())
		fd, err := syscall.Dup(int(f.Fd()))
		f.Close()
		if err != nil {
			return nil, err
		}
		b.file = fd
	}
	return b, nil
}

func (b *blocker) close() {
	for _, fd := range []int{b.pipe[0], b.pipe[1], b.file} {
		if fd >= 0 {
			syscall.Close(fd)
		}
	}
}

var page = make([]byte, 4096)

func (b *blocker) do() error {
	switch b.call {
	case "read":
		var buf [1]byte
		if n, err := syscall.Read(b.pipe[0], buf[:]); n != 1 {
			return fmt.Errorf("read: %d, %v", n, err)
		}
	case "nanosleep":
		ts := syscall.NsecToTimespec(int64(callPeriod))
		syscall.Nanosleep(&ts, nil)
	default:
		if n, err := syscall.Write(b.file, page); n != len(page) {
			return fmt.Errorf("write: %d, %v", n, err)
		}
		if err := syscall.Fsync(b.file); err != nil {
			return fmt.Errorf("fsync: %w", err)
		}
	}
	return nil
}

func runBlocking(call string, blockers int, window time.Duration) (blockingResult, error) {
	bs := make([]*blocker, 0, blockers)
	defer func() {
		for _, b := range bs {
			b.close()
		}
	}()
	for i := 0; i < blockers; i++ {
		b, err := newBlocker(call)
		if err != nil {
			return blockingResult{}, err
		}
		bs = append(bs, b)
	}
	var stop atomic.Bool
	var left atomic.Int64
	left.Store(int64(blockers))
	var calls atomic.Int64
	var failure atomic.Value
	var wg sync.WaitGroup
	if call == "read" && blockers > 0 {
		wg.Add(1)
		go func() { // the feeder: its own locked thread, like the C++ one outside the runtime
			defer wg.Done()
			runtime.LockOSThread()
			one := []byte{1}
			for left.Load() > 0 {
				for _, b := range bs {
					syscall.Write(b.pipe[1], one)
				}
				time.Sleep(callPeriod)
			}
		}()
	}
	for _, b := range bs {
		wg.Add(1)
		go func(b *blocker) {
			defer wg.Done()
			defer left.Add(-1)
			for !stop.Load() {
				if err := b.do(); err != nil {
					failure.Store(err)
					return
				}
				calls.Add(1)
				runtime.Gosched()
			}
		}(b)
	}
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	rtts := make([]time.Duration, 0, 1<<20)
	began := time.Now()
	end := began.Add(window)
	for sent := began; sent.Before(end); {
		ping <- struct{}{}
		<-pong
		back := time.Now()
		rtts = append(rtts, back.Sub(sent))
		sent = back
	}
	wall := time.Since(began)
	close(ping)
	stop.Store(true)
	wg.Wait()
	if err, ok := failure.Load().(error); ok {
		return blockingResult{}, err
	}
	sort.Slice(rtts, func(i, j int) bool { return rtts[i] < rtts[j] })
	return blockingResult{wall: wall, rtts: rtts, calls: calls.Load()}, nil
}

// blockingCounters name figures(), in its order.
var blockingCounters = []string{"round_trips_per_second", "round_trip_p50_us", "round_trip_p99_us", "round_trip_max_us",
	"blocking_calls_per_second"}

func (r blockingResult) figures() []float64 {
	secs := r.wall.Seconds()
	return []float64{float64(len(r.rtts)) / secs, nearestRank(r.rtts, 0.50), nearestRank(r.rtts, 0.99),
		nearestRank(r.rtts, 1), float64(r.calls) / secs}
}

func blockingFlags(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	call := fs.String("call", "nanosleep", "read, nanosleep or fsync")
	blockers := fs.Int("blockers", 2, "goroutines making blocking calls (0 or more)")
	windowMs := fs.Int("window-ms", 200, "the pair's window, in ms")
	return func() (plan, error) {
		if *call != "read" && *call != "nanosleep" && *call != "fsync" {
			return plan{}, usagef("-call must be read, nanosleep or fsync, got %q", *call)
		}
		if *blockers < 0 {
			return plan{}, usagef("-blockers must be 0 or more, got %d", *blockers)
		}
		if *windowMs < 1 {
			return plan{}, usagef("-window-ms must be at least 1, got %d", *windowMs)
		}
		window := time.Duration(*windowMs) * time.Millisecond
		measure := func() (measurement, error) {
			region, counters, _, err := timedFigures(common.minTime, blockingCounters,
				func() (time.Duration, []float64, error) {
					r, err := runBlocking(*call, *blockers, window)
					if err != nil {
						return 0, nil, err
					}
					return r.wall, r.figures(), nil
				})
			if err != nil {
				return measurement{}, err
			}
			return measurement{RealTime: float64(region.mean().Nanoseconds()) / 1e6, CPUTime: region.cpuPerRun() / 1e6,
				Iterations: region.runs, Counters: append(counters, region.gcCounters()...)}, nil
		}
		name := nameOf("blocking", common.procs, "call:"+*call, "via:direct", "blockers:"+strconv.Itoa(*blockers),
			"window:"+strconv.Itoa(*windowMs)+"ms")
		return plan{name: name, timeUnit: "ms", measure: measure}, nil
	}
}
