// workload_memory.go is the memory workload: what N goroutines cost while all
// of them are alive and parked on a channel receive (never a sleep loop).
//
// Readings (procfs.go) are taken after a runtime.GC(), before spawning, and
// again once every goroutine has said it is alive; the per-task figures are
// the deltas divided by N. The kernel side is this process's own (procfs.go's
// kernelMemory, the C++ suite's definition): page tables (VmPTE) and kernel
// stacks (threads x 16 KiB), near zero for goroutines, which are not kernel
// tasks, unless the runtime started threads while they were spawned.
//
// Beside them, Go's own accounts (runtime.MemStats): heap_alloc_bytes_per_task
// is the delta of MemStats.Alloc, the note's own method (shared/notes/003),
// which counts heap objects (the g and its closure) but not goroutine stacks,
// and sees a g only when it is new: a process's later goroutines reuse the g's
// of exited ones, one more reason each repetition runs in a fresh process;
// stack_inuse_bytes_per_task is the delta of MemStats.StackInuse, the stacks.
//
// With -depth-kib D each goroutine parks under D KiB of stack in use (atDepth,
// as the C++ suite's stack_depth.h does): Go grows the stack by copying it to
// one twice as large, so the figure shows the stack a blocked handler really
// holds, not the 2 KiB it started with. With -recursed-kib D each goroutine
// recurses through D KiB of frames once, returns and parks shallow, and two more
// readings follow (the C++ probe's recursed:DKiB rows): after one runtime.GC()
// (*_after_1gc: a collection shrinks a parked goroutine's stack to half when it
// uses under a quarter of it) and, after further runtime.GC() calls until one
// leaves StackInuse unchanged (gc_runs_until_settled counts every call, the
// first and the one that changed nothing included, at most maxSettleGCs), a
// wait of settleWait (*_settled): the copies' old stacks go back to the heap,
// and the background scavenger returns free heap pages to the OS at its pace.
//
// Invariant: the second reading happens while all N goroutines are alive
// (counted by themselves, tasks_alive == N), and the workload ends only after
// releasing them and seeing every one of them exit.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// parkedGoroutines are goroutines blocked on one channel receive until
// release; alive counts those that have started and not yet exited.
type parkedGoroutines struct {
	depthBytes int
	returned   bool // recursed through depthBytes and returned before parking
	release    chan struct{}
	ready      sync.WaitGroup // Done by each goroutine just before it parks
	exited     sync.WaitGroup // Done by each goroutine as it exits
	alive      atomic.Int64
	spawned    int64
	framesSum  atomic.Uint64 // keeps atDepth's frames from being optimised out
}

func newParkedGoroutines(depthBytes int, returned bool) *parkedGoroutines {
	return &parkedGoroutines{depthBytes: depthBytes, returned: returned, release: make(chan struct{})}
}

// stackFrameBytes is the stack each atDepth frame holds, as in stack_depth.h;
// maxDepthKiB is the C++ probe's bound on -depth-kib and -recursed-kib too;
// maxSettleGCs bounds the collections run until memory stops changing (a stack
// halves once per collection: 64 KiB frames grow one to 128 KiB, which six
// halvings bring back to the 2 KiB minimum).
const (
	stackFrameBytes = 1024
	maxDepthKiB     = 64
	maxSettleGCs    = 16
)

// settleWait is the C++ probe's wait before its settled reading: eight of the
// fiber runtime's 250 ms stack-trimmer intervals. Go's scavenger returns free
// pages in paced bursts: most of a thousand shrunk stacks' within 1.5 s here.
const settleWait = 2 * time.Second

// atDepth calls park at the bottom of a chain of frames holding at least bytes
// of stack, each frame's buffer written once a cache line before the call and
// read back after it, and returns a sum that depends on every frame.
//
//go:noinline
func atDepth(bytes int, park func()) uint64 {
	if bytes < stackFrameBytes {
		park()
		return 0
	}
	var frame [stackFrameBytes]byte
	touchFrame(&frame, bytes)
	return atDepth(bytes-stackFrameBytes, park) + frameSum(&frame)
}

// touchFrame writes a frame's buffer once a cache line, so its pages are
// resident; frameSum reads it back after the deeper call, so the frame stays.
func touchFrame(frame *[stackFrameBytes]byte, seed int) {
	for i := 0; i < stackFrameBytes; i += 64 {
		frame[i] = byte(i ^ seed)
	}
}

func frameSum(frame *[stackFrameBytes]byte) uint64 {
	sum := uint64(0)
	for i := 0; i < stackFrameBytes; i += 64 {
		sum += uint64(frame[i])
	}
	return sum
}

// spawn starts one more parked goroutine.
func (p *parkedGoroutines) spawn() {
	p.ready.Add(1)
	p.exited.Add(1)
	p.spawned++
	go func() {
		if p.depthBytes == 0 {
			p.park() // directly: atDepth's frame alone would grow the 2 KiB stack
		} else if p.returned {
			p.framesSum.Add(atDepth(p.depthBytes, func() {}))
			p.park() // from this frame, the deep frames returned from
		} else {
			p.framesSum.Add(atDepth(p.depthBytes, p.park))
		}
		p.alive.Add(-1)
		p.exited.Done()
	}()
}

// park counts the goroutine alive, says it is ready and blocks until release.
func (p *parkedGoroutines) park() {
	p.alive.Add(1)
	p.ready.Done()
	<-p.release
}

// waitAlive returns once every spawned goroutine is alive, with their count.
func (p *parkedGoroutines) waitAlive() int64 {
	p.ready.Wait()
	return p.alive.Load()
}

// releaseAll wakes every goroutine and waits until all of them have exited.
func (p *parkedGoroutines) releaseAll() error {
	close(p.release)
	p.exited.Wait()
	if left := p.alive.Load(); left != 0 {
		return fmt.Errorf("%d goroutines still alive after release", left)
	}
	return nil
}

type memoryResult struct {
	spawnWall time.Duration // spawning N until all were alive
	spawnCPU  time.Duration // process CPU time over the same
	before    processMemory
	after     processMemory
	goBefore  runtime.MemStats
	goAfter   runtime.MemStats
	alive     int64
	// -recursed-kib only: after one runtime.GC(), and after as many as it took
	// until one changed neither StackInuse nor RSS (gcRuns of them).
	after1GC, settled     processMemory
	goAfter1GC, goSettled runtime.MemStats
	gcRuns                int
}

// collectUntilSettled reads memory after one runtime.GC(), runs more until one
// leaves StackInuse as it was (or maxSettleGCs ran), then waits settleWait, the
// background scavenger's chance to return freed stack pages to the OS, as the
// C++ probe gives its runtimes', and reads again.
func collectUntilSettled(r *memoryResult) error {
	runtime.GC()
	r.gcRuns = 1
	runtime.ReadMemStats(&r.goAfter1GC)
	var err error
	if r.after1GC, err = readProcessMemory(); err != nil {
		return err
	}
	stackInuse := r.goAfter1GC.StackInuse
	for r.gcRuns < maxSettleGCs {
		runtime.GC()
		r.gcRuns++
		runtime.ReadMemStats(&r.goSettled)
		if r.goSettled.StackInuse == stackInuse {
			break
		}
		stackInuse = r.goSettled.StackInuse
	}
	time.Sleep(settleWait)
	runtime.ReadMemStats(&r.goSettled)
	r.settled, err = readProcessMemory()
	return err
}

func runMemory(n, depthBytes int, returned bool) (memoryResult, error) {
	runtime.GC()
	var r memoryResult
	before, err := readProcessMemory()
	if err != nil {
		return memoryResult{}, err
	}
	// Go's own readings right around the spawning, not around the /proc reads: a read
	// that blocks can make the runtime start a thread, whose stacks StackInuse counts.
	runtime.ReadMemStats(&r.goBefore)
	parked := newParkedGoroutines(depthBytes, returned)
	began, cpuBefore := time.Now(), readProcessUsage()
	for i := 0; i < n; i++ {
		parked.spawn()
	}
	alive := parked.waitAlive()
	spawnWall, spawnCPU := time.Since(began), readProcessUsage().since(cpuBefore).cpu
	runtime.ReadMemStats(&r.goAfter)
	after, readErr := readProcessMemory()
	if returned && readErr == nil {
		readErr = collectUntilSettled(&r)
	}
	if err := parked.releaseAll(); err != nil {
		return memoryResult{}, err
	}
	if readErr != nil {
		return memoryResult{}, readErr
	}
	if alive != int64(n) {
		return memoryResult{}, fmt.Errorf("%d goroutines alive at the reading, %d spawned", alive, n)
	}
	r.spawnWall, r.spawnCPU, r.before, r.after, r.alive = spawnWall, spawnCPU, before, after, alive
	return r, nil
}

// memoryCounters are the per-task deltas of one reading over another, each
// name ending in suffix.
func memoryCounters(after, before processMemory, goAfter, goBefore runtime.MemStats, n int, suffix string) []counter {
	perTask := func(a, b int64) float64 { return float64(a-b) / float64(n) }
	goPerTask := func(a, b uint64) float64 { return perTask(int64(a), int64(b)) }
	return []counter{
		{"rss_bytes_per_task" + suffix, perTask(after.rssBytes, before.rssBytes)},
		{"pss_bytes_per_task" + suffix, perTask(after.pssBytes, before.pssBytes)},
		{"vsz_bytes_per_task" + suffix, perTask(after.vszBytes, before.vszBytes)},
		{"page_table_bytes_per_task" + suffix, perTask(after.kernel.pageTableBytes, before.kernel.pageTableBytes)},
		{"kernel_stack_bytes_per_task" + suffix, perTask(after.kernel.kernelStackBytes, before.kernel.kernelStackBytes)},
		{"kernel_bytes_per_task" + suffix, perTask(after.kernel.bytes(), before.kernel.bytes())},
		{"total_bytes_per_task" + suffix, perTask(after.rssBytes+after.kernel.bytes(), before.rssBytes+before.kernel.bytes())},
		{"heap_alloc_bytes_per_task" + suffix, goPerTask(goAfter.Alloc, goBefore.Alloc)},
		{"stack_inuse_bytes_per_task" + suffix, goPerTask(goAfter.StackInuse, goBefore.StackInuse)},
	}
}

func memoryFlags(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	n := fs.Int("n", 100000, "goroutines parked at once (up to 1000000 and beyond)")
	depthKiB := fs.Int("depth-kib", 0, "each goroutine parks under this much stack in use, KiB (0 to 64)")
	recursedKiB := fs.Int("recursed-kib", 0, "each goroutine first recurses through this much stack, KiB (0 to 64), "+
		"returns and parks shallow; memory is read again after runtime.GC() calls")
	return func() (plan, error) {
		if *n < 1 {
			return plan{}, usagef("-n must be at least 1, got %d", *n)
		}
		if *depthKiB < 0 || *depthKiB > maxDepthKiB {
			return plan{}, usagef("-depth-kib must be 0 to %d, got %d", maxDepthKiB, *depthKiB)
		}
		if *recursedKiB < 0 || *recursedKiB > maxDepthKiB {
			return plan{}, usagef("-recursed-kib must be 0 to %d, got %d", maxDepthKiB, *recursedKiB)
		}
		if *depthKiB > 0 && *recursedKiB > 0 {
			return plan{}, usagef("-depth-kib and -recursed-kib exclude each other")
		}
		returned := *recursedKiB > 0
		count, depthBytes := *n, (*depthKiB+*recursedKiB)*1024
		measure := func() (measurement, error) {
			r, err := runMemory(count, depthBytes, returned)
			if err != nil {
				return measurement{}, err
			}
			counters := append(memoryCounters(r.after, r.before, r.goAfter, r.goBefore, count, ""),
				counter{"tasks_alive", float64(r.alive)})
			if returned {
				counters = append(counters, memoryCounters(r.after1GC, r.before, r.goAfter1GC, r.goBefore, count, "_after_1gc")...)
				counters = append(counters, memoryCounters(r.settled, r.before, r.goSettled, r.goBefore, count, "_settled")...)
				counters = append(counters, counter{"gc_runs_until_settled", float64(r.gcRuns)})
			}
			return measurement{RealTime: float64(r.spawnWall.Nanoseconds()), CPUTime: float64(r.spawnCPU.Nanoseconds()),
				Iterations: 1, Counters: counters}, nil
		}
		params := []string{"n:" + strconv.Itoa(*n)}
		if *recursedKiB > 0 {
			params = append([]string{"recursed:" + strconv.Itoa(*recursedKiB) + "KiB"}, params...)
		}
		if *depthKiB > 0 {
			params = append([]string{"depth:" + strconv.Itoa(*depthKiB) + "KiB"}, params...)
		}
		name := nameOf("memory", common.procs, params...)
		return plan{name: name, timeUnit: "ns", measure: measure}, nil
	}
}
