// workload_threadstack.go is the thread_stack workload: the stack memory the
// Go runtime itself allocates for each OS thread (an M) it runs: a system
// stack (g0, on which the scheduler and the runtime's own code run) and a
// signal-handling stack (gsignal). Both come from the runtime's stack
// allocator, so MemStats.StackInuse counts them: in Go 1.19, 8 KiB and 32 KiB
// (runtime/proc.go: allocm's malg(8192), mpreinit's malg(32*1024)). That holds
// for the peer as the suite builds it, without cgo; with cgo the system stack
// is the thread's own pthread stack, which the runtime does not allocate.
//
// It makes the runtime start N more threads: N goroutines each lock their OS
// thread (runtime.LockOSThread) and block in a read(2) on a pipe of their own,
// which keeps that thread in the kernel, so each needs a thread of its own.
// As a control, N goroutines of the same shape park on a channel, which needs
// no thread. The figure is the difference of the two StackInuse deltas (the
// goroutines' own stacks cancel) over the threads the process gained:
//
//	runtime_stack_bytes_per_thread  what the runtime's stacks cost per thread
//	rss_bytes_per_thread            the same difference, in resident memory
//	threads                         the OS threads the process gained
//
// A blocked goroutine may also take a thread the runtime already had idle, which
// adds neither a thread nor stacks: the ratio counts only the threads made, so
// it holds however many there were (the peer runs each repetition in a fresh
// process, where few are idle).
//
// Invariant: a reading happens once all N goroutines have said they block and
// the thread count has reached N more or stopped growing (100 ms unchanged, or
// 10 s), and the workload ends only after releasing them and seeing every one
// exit; no new thread at all is an error, not a figure.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

type stackReading struct {
	stackInuse uint64
	rssBytes   int64
	threads    int64
}

func readStacks() (stackReading, error) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	status, err := readKBTable("/proc/self/status", "Threads")
	if err != nil {
		return stackReading{}, err
	}
	// Rss counted page by page: VmRSS is per-CPU batched counters on recent kernels,
	// off by hundreds of KiB, the size of the stacks this measures.
	rollup, err := readKBTable("/proc/self/smaps_rollup", "Rss")
	if err != nil {
		return stackReading{}, err
	}
	return stackReading{stackInuse: m.StackInuse, rssBytes: rollup["Rss"], threads: status["Threads"]}, nil
}

// blockedGoroutines holds n goroutines blocked until release: in read(2) on a
// pipe each, on a thread each (locked), or, as the control, on a channel.
type blockedGoroutines struct {
	ready, exited sync.WaitGroup
	release       chan struct{}
	pipes         [][2]int
}

func blockGoroutines(n int, onThreads bool) (*blockedGoroutines, error) {
	b := &blockedGoroutines{release: make(chan struct{})}
	for i := 0; i < n; i++ {
		var fds [2]int
		if onThreads {
			if err := syscall.Pipe(fds[:]); err != nil {
				b.releaseAll()
				return nil, fmt.Errorf("pipe: %w", err)
			}
			b.pipes = append(b.pipes, fds)
		}
		b.ready.Add(1)
		b.exited.Add(1)
		go func() {
			defer b.exited.Done()
			if !onThreads {
				b.ready.Done()
				<-b.release
				return
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread() // so the thread is kept, not ended, at exit
			b.ready.Done()
			var buf [1]byte
			syscall.Read(fds[0], buf[:]) // blocks this thread until releaseAll writes
		}()
	}
	b.ready.Wait()
	return b, nil
}

func (b *blockedGoroutines) releaseAll() {
	close(b.release)
	for _, fds := range b.pipes {
		syscall.Write(fds[1], []byte{0})
	}
	b.exited.Wait()
	for _, fds := range b.pipes {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
	}
}

// blockedDelta blocks n goroutines as asked, waits until the process has
// gained wantThreads threads or stopped gaining them, and returns the readings
// before and during.
func blockedDelta(n int, onThreads bool, wantThreads int64) (before, during stackReading, err error) {
	runtime.GC()
	if before, err = readStacks(); err != nil {
		return
	}
	b, err := blockGoroutines(n, onThreads)
	if err != nil {
		return
	}
	defer b.releaseAll()
	deadline, settled := time.Now().Add(10*time.Second), time.Now().Add(100*time.Millisecond)
	for last := int64(-1); ; time.Sleep(time.Millisecond) {
		if during, err = readStacks(); err != nil || during.threads-before.threads >= wantThreads ||
			time.Now().After(deadline) || time.Now().After(settled) {
			return
		}
		if during.threads != last {
			last, settled = during.threads, time.Now().Add(100*time.Millisecond)
		}
	}
}

type threadStackResult struct {
	stackPerThread, rssPerThread float64
	threads                      int64
}

func runThreadStack(n int) (threadStackResult, error) {
	b0, d0, err := blockedDelta(n, false, 0)
	if err != nil {
		return threadStackResult{}, err
	}
	b1, d1, err := blockedDelta(n, true, int64(n))
	if err != nil {
		return threadStackResult{}, err
	}
	threads := (d1.threads - b1.threads) - (d0.threads - b0.threads)
	if threads < 1 {
		return threadStackResult{}, fmt.Errorf("%d goroutines blocked in read(2) on locked threads, "+
			"but the process gained no thread", n)
	}
	stack := float64(int64(d1.stackInuse-b1.stackInuse)-int64(d0.stackInuse-b0.stackInuse)) / float64(threads)
	rss := float64((d1.rssBytes-b1.rssBytes)-(d0.rssBytes-b0.rssBytes)) / float64(threads)
	return threadStackResult{stackPerThread: stack, rssPerThread: rss, threads: threads}, nil
}

func threadStackFlags(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	n := fs.Int("n", 64, "OS threads to make the runtime start (1 to 1000)")
	return func() (plan, error) {
		if *n < 1 || *n > 1000 {
			return plan{}, usagef("-n must be 1 to 1000, got %d", *n)
		}
		if _, err := os.Stat("/proc/self/status"); err != nil {
			return plan{}, usagef("thread_stack reads /proc/self/status: %v", err)
		}
		count := *n
		measure := func() (measurement, error) {
			began, usage := time.Now(), readProcessUsage()
			r, err := runThreadStack(count)
			if err != nil {
				return measurement{}, err
			}
			return measurement{RealTime: float64(time.Since(began).Microseconds()) / 1e3, CPUTime: float64(readProcessUsage().since(usage).cpu.Microseconds()) / 1e3, Iterations: 1,
				Counters: []counter{
					{"runtime_stack_bytes_per_thread", r.stackPerThread},
					{"rss_bytes_per_thread", r.rssPerThread},
					{"threads", float64(r.threads)},
				}}, nil
		}
		return plan{name: nameOf("thread_stack", common.procs, "n:"+strconv.Itoa(count)), timeUnit: "ms",
			measure: measure}, nil
	}
}
