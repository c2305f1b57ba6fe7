// live_tasks.go counts the goroutines of a run that are live at once, as the
// C++ suite's benchmarks/workloads/live_tasks.h does: a goroutine is live from
// the first statement of its body to its last (it holds a stack), so rows
// whose runtimes traverse a tree in different orders say how many tasks each
// held at its peak (Go runs the last-spawned goroutine next).
//
// Invariant: peak is the largest value live held, every enter and leave
// counted once. A nil *liveGauge counts nothing (the timed run: the gauge's
// atomics contend between Ps, so workloads count in their warm-up only).
package main

import "sync/atomic"

type liveGauge struct {
	live, peak atomic.Int64
}

func (g *liveGauge) enter() {
	if g == nil {
		return
	}
	now := g.live.Add(1)
	for {
		peak := g.peak.Load()
		if now <= peak || g.peak.CompareAndSwap(peak, now) {
			return
		}
	}
}

func (g *liveGauge) leave() {
	if g != nil {
		g.live.Add(-1)
	}
}

// warmUpGauge hands out a gauge to the first run that asks (the warm-up of
// timedRuns) and nil to every later one (the timed runs); peak reads what the
// warm-up counted.
type warmUpGauge struct {
	gauge liveGauge
	taken bool
}

func (w *warmUpGauge) next() *liveGauge {
	if w.taken {
		return nil
	}
	w.taken = true
	return &w.gauge
}

func (w *warmUpGauge) peak() float64 { return float64(w.gauge.peak.Load()) }
