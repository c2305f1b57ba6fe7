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
// holds, not the 2 KiB it started with.
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
	release    chan struct{}
	ready      sync.WaitGroup // Done by each goroutine just before it parks
	exited     sync.WaitGroup // Done by each goroutine as it exits
	alive      atomic.Int64
	spawned    int64
	framesSum  atomic.Uint64 // keeps atDepth's frames from being optimised out
}

func newParkedGoroutines(depthBytes int) *parkedGoroutines {
	return &parkedGoroutines{depthBytes: depthBytes, release: make(chan struct{})}
}

// stackFrameBytes is the stack each atDepth frame holds, as in stack_depth.h;
// maxDepthKiB is the C++ probe's bound on -depth-kib too.
const (
	stackFrameBytes = 1024
	maxDepthKiB     = 64
)

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
}

func runMemory(n, depthBytes int) (memoryResult, error) {
	runtime.GC()
	var r memoryResult
	before, err := readProcessMemory()
	if err != nil {
		return memoryResult{}, err
	}
	// Go's own readings right around the spawning, not around the /proc reads: a read
	// that blocks can make the runtime start a thread, whose stacks StackInuse counts.
	runtime.ReadMemStats(&r.goBefore)
	parked := newParkedGoroutines(depthBytes)
	began, cpuBefore := time.Now(), readProcessUsage()
	for i := 0; i < n; i++ {
		parked.spawn()
	}
	alive := parked.waitAlive()
	spawnWall, spawnCPU := time.Since(began), readProcessUsage().since(cpuBefore).cpu
	runtime.ReadMemStats(&r.goAfter)
	after, readErr := readProcessMemory()
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

func memoryFlags(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	n := fs.Int("n", 100000, "goroutines parked at once (up to 1000000 and beyond)")
	depthKiB := fs.Int("depth-kib", 0, "each goroutine parks under this much stack in use, KiB (0 to 64)")
	return func() (plan, error) {
		if *n < 1 {
			return plan{}, usagef("-n must be at least 1, got %d", *n)
		}
		if *depthKiB < 0 || *depthKiB > maxDepthKiB {
			return plan{}, usagef("-depth-kib must be 0 to %d, got %d", maxDepthKiB, *depthKiB)
		}
		count, depthBytes := *n, *depthKiB*1024
		measure := func() (measurement, error) {
			r, err := runMemory(count, depthBytes)
			if err != nil {
				return measurement{}, err
			}
			perTask := func(after, before int64) float64 { return float64(after-before) / float64(count) }
			goPerTask := func(after, before uint64) float64 { return perTask(int64(after), int64(before)) }
			return measurement{RealTime: float64(r.spawnWall.Nanoseconds()), CPUTime: float64(r.spawnCPU.Nanoseconds()),
				Iterations: 1, Counters: []counter{
					{"rss_bytes_per_task", perTask(r.after.rssBytes, r.before.rssBytes)},
					{"pss_bytes_per_task", perTask(r.after.pssBytes, r.before.pssBytes)},
					{"vsz_bytes_per_task", perTask(r.after.vszBytes, r.before.vszBytes)},
					{"page_table_bytes_per_task", perTask(r.after.kernel.pageTableBytes, r.before.kernel.pageTableBytes)},
					{"kernel_stack_bytes_per_task", perTask(r.after.kernel.kernelStackBytes, r.before.kernel.kernelStackBytes)},
					{"kernel_bytes_per_task", perTask(r.after.kernel.bytes(), r.before.kernel.bytes())},
					{"total_bytes_per_task", perTask(r.after.rssBytes+r.after.kernel.bytes(), r.before.rssBytes+r.before.kernel.bytes())},
					{"heap_alloc_bytes_per_task", goPerTask(r.goAfter.Alloc, r.goBefore.Alloc)},
					{"stack_inuse_bytes_per_task", goPerTask(r.goAfter.StackInuse, r.goBefore.StackInuse)},
					{"tasks_alive", float64(r.alive)},
				}}, nil
		}
		params := []string{"n:" + strconv.Itoa(*n)}
		if *depthKiB > 0 {
			params = append([]string{"depth:" + strconv.Itoa(*depthKiB) + "KiB"}, params...)
		}
		name := nameOf("memory", common.procs, params...)
		return plan{name: name, timeUnit: "ns", measure: measure}, nil
	}
}
