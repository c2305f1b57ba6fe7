// workload.go holds what the workloads share: how a timing workload is warmed
// up before the run that is reported.
//
// Invariant: the reported run of a timing workload starts from the state the
// same run leaves behind (goroutine and stack caches filled) with no garbage
// pending from the warm-up, the steady state a long-running program sees.
package main

import "runtime"

// warmedUp runs run once unreported, collects the garbage it left, and
// returns the result of a second run. An error from either run is returned.
func warmedUp[T any](run func() (T, error)) (T, error) {
	if result, err := run(); err != nil {
		return result, err
	}
	runtime.GC()
	return run()
}
