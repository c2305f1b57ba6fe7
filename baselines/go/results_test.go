// results_test.go checks that entries come out in the results format: keys in
// order, counters top-level, non-finite values as the bare token NaN.
package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestFormatNumber(t *testing.T) {
	cases := map[float64]string{
		499999500000: "499999500000", 0: "0", -3: "-3", 2.5: "2.5",
		math.NaN(): "NaN", math.Inf(1): "NaN", 1e300: "1e+300",
	}
	for v, want := range cases {
		if got := formatNumber(v); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestWriteDocument(t *testing.T) {
	entries := []entry{
		{name: "skynet/go/procs:2/n:10", repetitions: 2, repetitionIndex: 0, timeUnit: "ms",
			measurement: measurement{RealTime: 1.5, CPUTime: 1.25, Iterations: 1, Counters: []counter{{"sum", 45}, {"tasks", 11}}}},
		{name: "skynet/go/procs:2/n:10", repetitions: 2, repetitionIndex: 1, timeUnit: "ms",
			measurement: measurement{RealTime: 2, CPUTime: 0.5, Iterations: 1, Label: "bound:cap", Counters: []counter{{"sum", 45}, {"tasks", 11}}}},
	}
	var out bytes.Buffer
	if err := writeDocument(&out, map[string]any{"greenbench": map[string]any{"format_version": 1}}, entries); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context    map[string]any   `json:"context"`
		Benchmarks []map[string]any `json:"benchmarks"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if len(doc.Benchmarks) != 2 {
		t.Fatalf("%d entries", len(doc.Benchmarks))
	}
	second := doc.Benchmarks[1]
	want := map[string]any{
		"name": "skynet/go/procs:2/n:10", "run_name": "skynet/go/procs:2/n:10", "run_type": "iteration",
		"repetitions": 2.0, "repetition_index": 1.0, "threads": 1.0, "iterations": 1.0,
		"real_time": 2.0, "cpu_time": 0.5, "time_unit": "ms", "label": "bound:cap", "sum": 45.0, "tasks": 11.0,
	}
	for key, value := range want {
		if second[key] != value {
			t.Errorf("%s = %v, want %v", key, second[key], value)
		}
	}
	if strings.Index(out.String(), `"name"`) > strings.Index(out.String(), `"run_type"`) {
		t.Error("name does not come first")
	}
}

func TestWriteEntryNaN(t *testing.T) {
	var out bytes.Buffer
	writeEntry(&out, entry{name: "n", repetitions: 1, timeUnit: "ns",
		measurement: measurement{Iterations: 1, Counters: []counter{{"bytes_per_task", math.NaN()}}}}, "")
	if !strings.Contains(out.String(), `"bytes_per_task": NaN`) {
		t.Fatalf("no bare NaN in %s", out.String())
	}
}
