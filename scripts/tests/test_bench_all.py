"""Tests of greenbench.bench_all's run loop with stand-in measurement programs: a probe's
repetitions become one run in the results file, an entry that cannot run here (exit 3)
is skipped and one that fails (exit 1) is counted, both with a warning, and the file
keeps every finished entry; the headline figure of an open-loop echo run is its p99; an
instruction entry divides callgrind's total by the operations of its one timing
repetition, and keeps the facts but not the timings; and, where the release build exists, a real run
of scaling entries (--workers)."""

import contextlib
import io
import json
import os
import sys
import unittest

import support
from greenbench import bench_all, catalogue, results

# A probe stand-in: prints one iteration entry of `name`, repetition --rep of --reps.
PROBE = """
import json, sys
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
name = args["--name"]
entry = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": int(args["--reps"]),
         "repetition_index": int(args["--rep"]), "threads": 1, "iterations": 1, "real_time": 1.0,
         "cpu_time": 1.0, "time_unit": "ns", "rss_bytes_per_task": 4000 + 100 * int(args["--rep"])}
print(json.dumps({"context": {"host_name": "h"}, "benchmarks": [entry]}))
"""


def probe(name, reps=3, exit_code=0):
    argv = [sys.executable, "-c", PROBE if not exit_code else f"import sys; sys.exit({exit_code})", "--name", name]
    return catalogue.Entry(name, "probe", argv, reps, timeout=300, estimate=1.0)


class RunEntriesTest(support.ScratchTestCase):
    def test_repetitions_skips_and_failures(self):
        out = self.write("run.json", "")
        ctx = {"host": "h", "warnings": []}
        entries = [probe("memory/a/n:10"), probe("memory/b/n:10", exit_code=3),
                   probe("memory/c/n:10", exit_code=1), probe("memory/d/n:10")]
        progress = io.StringIO()
        with contextlib.redirect_stderr(progress):
            doc, failures, interrupted = bench_all.run_entries(entries, ctx, out)
        self.assertIn("[4/4] memory/d/n:10", progress.getvalue())
        self.assertEqual((failures, interrupted), (1, False))
        on_disk = results.load(out)
        self.assertEqual(on_disk, doc)
        iterations = [(e["run_name"], e["repetition_index"], e["rss_bytes_per_task"])
                      for e in on_disk["benchmarks"] if e["run_type"] == "iteration"]
        self.assertEqual(iterations, [(f"memory/{x}/n:10", k, 4000 + 100 * k) for x in "ad" for k in range(3)])
        medians = {e["run_name"]: e["rss_bytes_per_task"] for e in on_disk["benchmarks"]
                   if e.get("aggregate_name") == "median"}
        self.assertEqual(medians, {"memory/a/n:10": 4100, "memory/d/n:10": 4100})
        warnings = on_disk["context"]["greenbench"]["warnings"]
        self.assertTrue(warnings[0].startswith("memory/b/n:10 skipped"), warnings)
        self.assertTrue(warnings[1].startswith("memory/c/n:10 failed: exit 1"), warnings)
        # Each measured entry records the noise it ran under.
        noise = on_disk["context"]["greenbench"]["noise"]
        self.assertEqual(sorted(noise), ["memory/a/n:10", "memory/d/n:10"])
        self.assertGreaterEqual(noise["memory/a/n:10"]["steal_fraction"], 0)

    def test_a_cpuset_entry_runs_on_that_many_cpus_and_is_named_for_it(self):
        # The stand-in writes the CPUs it may use as its counter.
        script = PROBE.replace('"rss_bytes_per_task": 4000 + 100 * int(args["--rep"])',
                               '"cpus": len(__import__("os").sched_getaffinity(0))')
        name = "create/std_thread/mode:sequential/n:10"
        plain = catalogue.Entry(name, "probe", [sys.executable, "-c", script, "--name", name], 2, timeout=300,
                                estimate=1.0)
        pinned = catalogue._on_one_cpu(plain)
        out = self.write("run.json", "")
        with contextlib.redirect_stderr(io.StringIO()):
            doc, failures, _ = bench_all.run_entries([plain, pinned], {"host": "h", "warnings": []}, out)
        self.assertEqual(failures, 0)
        cpus = {e["name"]: e["cpus"] for e in doc["benchmarks"] if e["run_type"] == "iteration"}
        self.assertEqual(cpus, {name: len(bench_all.child_cpus(0)),
                                "create/std_thread/cpuset:1/mode:sequential/n:10": 1})

    def test_instruction_entry_divides_the_count_by_the_operations(self):
        counts = self.write("callgrind.out", "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\n"
                                             "summary: 0\nfn=(1) main\n0 5\ntotals: 14541055\n")
        self.assertEqual(bench_all.callgrind_total(counts), 14541055)
        with self.assertRaises(bench_all.Failure):
            bench_all.callgrind_total(self.write("other.out", "events: Dr\ntotals: 5\n"))
        source = "switch/fiber/workers:1/via:yield/cpus:1"
        entry = catalogue.Entry(source + catalogue.INSTRUCTIONS_SUFFIX, "instructions", [], 3, 60, 1.0,
                                source=source)
        timing = {"context": {"host_name": "h"}, "benchmarks": [{
            "name": source, "run_name": source, "run_type": "iteration", "repetitions": 1,
            "repetition_index": 0, "threads": 1, "iterations": 2, "real_time": 100.0, "cpu_time": 70.0,
            "time_unit": "ms", "ns_per_switch": 2008.7, "switches": 50000.0, "minor_faults_per_op": 0.0003}]}
        doc = bench_all.instruction_entry(timing, 14541055, entry)
        [counted] = doc["benchmarks"]
        self.assertEqual((counted["name"], counted["run_name"], counted["label"]), (entry.name, entry.name, "callgrind"))
        self.assertAlmostEqual(counted["instructions_per_switch"], 145.41055)
        self.assertEqual(counted["switches"], 50000.0)
        self.assertNotIn("ns_per_switch", counted)
        self.assertNotIn("minor_faults_per_op", counted)
        timing["benchmarks"][0]["error_occurred"] = True
        with self.assertRaises(bench_all.Failure):
            bench_all.instruction_entry(timing, 14541055, entry)

    def test_parse_bytes(self):
        self.assertEqual(bench_all.parse_bytes("4GiB"), 4 << 30)
        self.assertEqual(bench_all.parse_bytes("512M"), 512 << 20)
        self.assertEqual(bench_all.parse_bytes("1000"), 1000)
        with self.assertRaises(Exception):
            bench_all.parse_bytes("four gigs")

    def test_headline_of_an_open_loop_run_is_its_p99(self):
        doc = results.load(support.fixture("echo_open_loop.json"))
        rows = {run: counter for run, counter, *_ in bench_all.headline(doc)}
        self.assertEqual(rows["echo_open_loop/std_thread/conns:1000/rate:20000"], "ns_p99")
        self.assertEqual(rows["echo/std_thread/conns:1000"], "requests_per_second")


BUILT = catalogue.Paths(os.path.dirname(support.SCRIPTS))


@unittest.skipUnless(os.access(BUILT.timing, os.X_OK) and os.access(BUILT.go_peer, os.X_OK),
                     "needs the release build's greenbench_timing and greenbench-go")
class ScalingRunTest(support.ScratchTestCase):
    """bench_all --workers 1,2,4 on whatever CPUs there are (2 on the reference VM: 4 is
    oversubscribed): the scaling entries run under names that carry W, Go at
    GOMAXPROCS=W, threads restricted to W CPUs, and the context says which W exceed the
    CPUs."""

    def test_workers_list_runs_and_is_recorded(self):
        out = os.path.join(self.tmp, "scaling.json")
        only = ["skynet/fiber/workers:1/via:join/n:10000", "skynet/fiber/workers:4/via:join/n:10000",
                "pairs/std_thread/cpus:1/n:50000", "skynet/go/procs:4/via:join/n:10000"]
        argv = ["--no-build", "--workers", "1,2,4", "--out", out]
        for name in only:
            argv += ["--only", name]
        run = support.run_script("bench_all", *argv)
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(out, encoding="utf-8") as f:
            doc = json.load(f)
        ctx = doc["context"]["greenbench"]
        cpus = catalogue.usable_cpus()
        self.assertEqual(ctx["scaling_workers"], [1, 2, 4])
        self.assertEqual(ctx["oversubscribed_workers"], [w for w in (1, 2, 4) if w > cpus])
        medians = {e["run_name"]: e for e in doc["benchmarks"] if e.get("aggregate_name") == "median"}
        self.assertEqual(sorted(medians), sorted(only))
        for name, entry in medians.items():
            if name.startswith("skynet/"):
                self.assertEqual(entry["tasks"], 11111, name)
                self.assertGreater(entry["peak_rss_bytes"], 0, name)
            else:
                self.assertEqual(entry["switches"], 50000, name)
            self.assertGreater(entry["cpu_ns_per_op"], 0, name)


if __name__ == "__main__":
    unittest.main()
