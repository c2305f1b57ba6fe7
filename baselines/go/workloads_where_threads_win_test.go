// workloads_where_threads_win_test.go tests the fairness and blocking workloads
// in-process at small sizes. In a file of its own, named to sort after
// workloads_test.go: go test runs files in name order, and these tests free
// megabytes of heap that would otherwise move the memory test's RSS deltas.
package main

import (
	"testing"
	"time"
)

func TestFairnessAccountsForEveryTick(t *testing.T) {
	r := runFairness(2, 20*time.Millisecond)
	if r.expected != 20 || int64(len(r.lateness))+r.missed != r.expected || r.hogWork <= 0 {
		t.Errorf("runFairness(2, 20ms) = %d served, %d missed, %d expected, %d work",
			len(r.lateness), r.missed, r.expected, r.hogWork)
	}
	for i := 1; i < len(r.lateness); i++ {
		if r.lateness[i] < r.lateness[i-1] || r.lateness[0] < 0 {
			t.Fatalf("lateness not sorted or negative: %v", r.lateness)
		}
	}
}

func TestBlockingTimesEveryRoundTripAndEndsEveryBlocker(t *testing.T) {
	for _, call := range []string{"read", "nanosleep", "fsync"} {
		r, err := runBlocking(call, 2, 20*time.Millisecond)
		if err != nil || len(r.rtts) == 0 || r.calls < 2 || r.wall < 20*time.Millisecond {
			t.Errorf("runBlocking(%s, 2, 20ms) = %d round trips, %d calls, %v, %v", call, len(r.rtts), r.calls, r.wall, err)
		}
	}
	if r, err := runBlocking("nanosleep", 0, 5*time.Millisecond); err != nil || r.calls != 0 || len(r.rtts) == 0 {
		t.Errorf("no blockers: %d round trips, %d calls, %v", len(r.rtts), r.calls, err)
	}
}
