// results.go turns measurements into greenbench's results format
// (docs/results-format.md): Google Benchmark's JSON, one "iteration" entry per
// repetition. The suite driver adds the median/mean/stddev/cv aggregates.
//
// Invariant: an entry's keys come out in Google Benchmark's order, counters
// are top-level numbers, and a non-finite value is written as the bare token
// NaN (as Google Benchmark does), which encoding/json refuses to write: that
// is why entries are written by hand here and only the context goes through
// encoding/json.
package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
)

// counter is one named figure of a measurement, in its order of report.
type counter struct {
	Name  string
	Value float64
}

// measurement is what one repetition of a workload produces. It crosses from
// the child process that measured it to the parent as gob, which keeps NaN.
type measurement struct {
	RealTime   float64 // wall time of the timed part, in the plan's time unit
	CPUTime    float64 // process CPU time (getrusage) over the same part, the same unit
	Iterations int64   // Google Benchmark's iterations: RealTime is per iteration
	Label      string  // optional, e.g. "bound:cap"
	Counters   []counter
}

// entry is one "run_type": "iteration" element of "benchmarks".
type entry struct {
	name            string
	repetitions     int
	repetitionIndex int
	timeUnit        string
	measurement
}

// formatNumber writes a JSON number: integers without exponent, NaN for any
// non-finite value.
func formatNumber(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "NaN"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	default:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
}

func quote(s string) string {
	text, _ := json.Marshal(s) // marshalling a string cannot fail
	return string(text)
}

// writeEntry writes one entry as a JSON object at the given indent.
func writeEntry(w *bytes.Buffer, e entry, indent string) {
	field := func(key, value string, last bool) {
		w.WriteString(indent + "  " + quote(key) + ": " + value)
		if !last {
			w.WriteString(",")
		}
		w.WriteString("\n")
	}
	w.WriteString(indent + "{\n")
	field("name", quote(e.name), false)
	field("run_name", quote(e.name), false)
	field("run_type", quote("iteration"), false)
	field("repetitions", strconv.Itoa(e.repetitions), false)
	field("repetition_index", strconv.Itoa(e.repetitionIndex), false)
	field("threads", "1", false)
	field("iterations", strconv.FormatInt(e.Iterations, 10), false)
	field("real_time", formatNumber(e.RealTime), false)
	field("cpu_time", formatNumber(e.CPUTime), false)
	field("time_unit", quote(e.timeUnit), e.Label == "" && len(e.Counters) == 0)
	if e.Label != "" {
		field("label", quote(e.Label), len(e.Counters) == 0)
	}
	for i, c := range e.Counters {
		field(c.Name, formatNumber(c.Value), i == len(e.Counters)-1)
	}
	w.WriteString(indent + "}")
}

// writeDocument writes {"context": ..., "benchmarks": [...]}.
func writeDocument(out io.Writer, context any, entries []entry) error {
	contextJSON, err := json.MarshalIndent(context, "  ", "  ")
	if err != nil {
		return err
	}
	var w bytes.Buffer
	w.WriteString("{\n  \"context\": ")
	w.Write(contextJSON)
	w.WriteString(",\n  \"benchmarks\": [\n")
	for i, e := range entries {
		writeEntry(&w, e, "    ")
		if i != len(entries)-1 {
			w.WriteString(",")
		}
		w.WriteString("\n")
	}
	w.WriteString("  ]\n}\n")
	_, err = out.Write(w.Bytes())
	return err
}
