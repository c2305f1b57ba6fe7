// workload_maxcount.go is the max_count workload: how many parked goroutines
// one process holds before a limit stops it.
//
// It spawns goroutines parked as in the memory workload, and every
// checkEvery spawns reads what the budget counts, as the C++ probe does: the
// resident size from /proc/self/statm (cheap) plus the process's kernel memory
// (page tables and kernel stacks, procfs.go's kernelMemory), to stop before
// the next batch would take the process past the memory budget;
// it also stops at the cap or the time limit. The label names the bound that
// stopped it. A failed spawn cannot be reported: the Go runtime aborts the
// process when it runs out of memory, so the budget is the guard, and a
// budget above MemAvailable is refused. Goroutines use no pids and no
// mappings, so pid_max, threads-max and max_map_count never bind here.
//
// Invariant: every goroutine counted in max_tasks is alive when the final
// reading is taken, and all of them have exited before the measurement ends.
package main

import (
	"flag"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"time"
)

// checkEvery is how many spawns pass between two statm readings: reading
// costs a few microseconds, a goroutine a few hundred nanoseconds.
const checkEvery = 4096

// eightGiB is the reference budget of tasks_in_8GiB.
const eightGiB = 8 << 30

type maxCountLimits struct {
	budgetBytes int64         // absolute RSS + kernel memory of the process not to exceed
	limit       int64         // the cap: most goroutines to spawn
	timeLimit   time.Duration // most time to spend spawning
}

type maxCountResult struct {
	tasks        int64
	bound        string // memory_budget, cap or time
	wall         time.Duration
	cpu          time.Duration // process CPU time over wall
	memoryBefore int64         // smaps_rollup Rss + kernel memory before the first spawn
	memoryAfter  int64         // the same with all tasks alive
	maps         int64
}

// exceedsBudget says whether spawning checkEvery more goroutines, at the
// average cost so far, would take the budget's measure past the budget.
func exceedsBudget(used, usedBefore, spawned, budget int64) bool {
	perTask := int64(0)
	if spawned > 0 && used > usedBefore {
		perTask = (used - usedBefore) / spawned
	}
	return used+perTask*checkEvery > budget
}

// budgetMeasure is what the budget counts: resident bytes (smaps_rollup Rss,
// exact; or statm's, cheap, when exact is false) plus the kernel memory.
func budgetMeasure(exact bool) (int64, error) {
	var rss int64
	if exact {
		rollup, err := readKBTable("/proc/self/smaps_rollup", "Rss")
		if err != nil {
			return 0, err
		}
		rss = rollup["Rss"]
	} else {
		sizes, err := readStatm()
		if err != nil {
			return 0, err
		}
		rss = sizes.rssBytes
	}
	kernel, err := readKernelMemory()
	if err != nil {
		return 0, err
	}
	return rss + kernel.bytes(), nil
}

func runMaxCount(limits maxCountLimits) (maxCountResult, error) {
	runtime.GC()
	memoryBefore, err := budgetMeasure(true)
	if err != nil {
		return maxCountResult{}, err
	}
	cheapBefore, err := budgetMeasure(false) // the budget check's own baseline
	if err != nil {
		return maxCountResult{}, err
	}
	parked := newParkedGoroutines(0, false)
	bound := "cap"
	began, cpuBefore := time.Now(), readProcessUsage()
	for parked.spawned < limits.limit {
		if parked.spawned%checkEvery == 0 {
			used, err := budgetMeasure(false)
			if err != nil {
				parked.releaseAll()
				return maxCountResult{}, err
			}
			if exceedsBudget(used, cheapBefore, parked.spawned, limits.budgetBytes) {
				bound = "memory_budget"
				break
			}
			if time.Since(began) >= limits.timeLimit {
				bound = "time"
				break
			}
		}
		parked.spawn()
	}
	alive := parked.waitAlive()
	wall, cpu := time.Since(began), readProcessUsage().since(cpuBefore).cpu
	memoryAfter, memoryErr := budgetMeasure(true)
	maps, mapsErr := mapCount()
	if err := parked.releaseAll(); err != nil {
		return maxCountResult{}, err
	}
	switch {
	case memoryErr != nil:
		return maxCountResult{}, memoryErr
	case mapsErr != nil:
		return maxCountResult{}, mapsErr
	case alive != parked.spawned:
		return maxCountResult{}, fmt.Errorf("%d goroutines alive at the reading, %d spawned", alive, parked.spawned)
	}
	return maxCountResult{tasks: alive, bound: bound, wall: wall, cpu: cpu, memoryBefore: memoryBefore, memoryAfter: memoryAfter, maps: maps}, nil
}

func maxCountFlags(fs *flag.FlagSet, common *commonFlags) func() (plan, error) {
	budget := fs.Int64("budget-bytes", 1<<30, "stop before the process's RSS + kernel memory (page tables, kernel stacks) exceeds this many bytes")
	limit := fs.Int64("cap", 10000000, "stop after this many goroutines")
	timeLimit := secondsFlag(60 * time.Second)
	fs.Var(&timeLimit, "time-limit", "stop spawning after this long: seconds (60) or a Go duration (60s, 1m)")
	return func() (plan, error) {
		if *budget < 1 || *limit < 1 || timeLimit <= 0 {
			return plan{}, usagef("-budget-bytes, -cap and -time-limit must be positive")
		}
		if meminfo, err := readKBTable("/proc/meminfo", "MemAvailable"); err == nil && *budget > meminfo["MemAvailable"] {
			return plan{}, usagef("-budget-bytes %d exceeds MemAvailable (%d bytes): the OOM killer, not the budget, would stop the run",
				*budget, meminfo["MemAvailable"])
		}
		limits := maxCountLimits{
			budgetBytes: *budget,
			limit:       *limit,
			timeLimit:   time.Duration(timeLimit),
		}
		measure := func() (measurement, error) {
			r, err := runMaxCount(limits)
			if err != nil {
				return measurement{}, err
			}
			perTask, inEightGiB := math.NaN(), math.NaN()
			if r.tasks > 0 {
				perTask = float64(r.memoryAfter-r.memoryBefore) / float64(r.tasks)
			}
			if perTask > 0 {
				inEightGiB = float64(eightGiB) / perTask
			}
			return measurement{
				RealTime:   float64(r.wall.Nanoseconds()) / 1e6,
				CPUTime:    float64(r.cpu.Nanoseconds()) / 1e6,
				Iterations: 1,
				Label:      "bound:" + r.bound,
				Counters: []counter{
					{"max_tasks", float64(r.tasks)},
					{"seconds", r.wall.Seconds()},
					{"bytes_per_task", perTask},
					{"tasks_in_8GiB", inEightGiB},
					{"map_count", float64(r.maps)},
				},
			}, nil
		}
		return plan{name: nameOf("max_count", common.procs), timeUnit: "ms", measure: measure}, nil
	}
}

// secondsFlag is a duration given on the command line either as plain seconds
// ("60", "0.5") or as a Go duration ("60s", "1m30s").
type secondsFlag time.Duration

func (s *secondsFlag) String() string { return time.Duration(*s).String() }

func (s *secondsFlag) Set(text string) error {
	if seconds, err := strconv.ParseFloat(text, 64); err == nil {
		*s = secondsFlag(seconds * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return fmt.Errorf("want seconds or a duration such as 60s, got %q", text)
	}
	*s = secondsFlag(d)
	return nil
}
