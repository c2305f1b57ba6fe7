"""Tests of greenbench/results.py: loading and checking files, Google Benchmark's
statistics and aggregates, sorting, merging, atomic writes, directions, units and names."""

import copy
import json
import math
import os
import unittest

import support
from greenbench import results, units


def iteration(run_name, index, repetitions, **figures):
    """A hand-made iteration entry."""
    entry = {"name": run_name, "run_name": run_name, "run_type": "iteration",
             "repetitions": repetitions, "repetition_index": index, "threads": 1,
             "iterations": 10, "time_unit": "ns"}
    entry.update(figures)
    return entry


class LoadTest(support.ScratchTestCase):
    def test_fixture_loads_with_its_bare_nan(self):
        doc = results.load(support.fixture("run_a.json"))
        self.assertEqual(results.host_of(doc), "alpha")
        figure = results.summarize(doc)["memory/go/procs:1/n:1000"].figures["kernel_bytes_per_task"]
        self.assertTrue(math.isnan(figure.median))

    def test_truncated_file_is_an_error_naming_the_file(self):
        with open(support.fixture("run_a.json"), encoding="utf-8") as f:
            path = self.write("cut.json", f.read()[:700])
        with self.assertRaises(results.ResultsError) as caught:
            results.load(path)
        self.assertIn(path, str(caught.exception))
        self.assertIn("not valid JSON", str(caught.exception))

    def test_empty_file(self):
        with self.assertRaisesRegex(results.ResultsError, "empty file"):
            results.load(self.write("empty.json", "\n"))

    def test_missing_file(self):
        with self.assertRaisesRegex(results.ResultsError, "cannot read"):
            results.load(os.path.join(self.tmp, "absent.json"))

    def test_foreign_json_names_what_is_missing(self):
        path = self.write("package.json", json.dumps({"name": "left-pad", "version": "1.3.0"}))
        with self.assertRaisesRegex(results.ResultsError, 'no "context" key.*name, version'):
            results.load(path)
        with self.assertRaisesRegex(results.ResultsError, "top level is a JSON list"):
            results.load(self.write("list.json", "[1, 2]"))
        with self.assertRaisesRegex(results.ResultsError, '"benchmarks" is not a JSON array'):
            results.load(self.write("odd.json", '{"context": {}, "benchmarks": {}}'))

    def test_entry_without_run_type(self):
        doc = {"context": {}, "benchmarks": [{"name": "create/fiber", "run_name": "create/fiber"}]}
        path = self.write("norun.json", json.dumps(doc))
        with self.assertRaisesRegex(results.ResultsError,
                                    r'benchmarks\[0\] \("create/fiber"\) has no "run_type"'):
            results.load(path)

    def test_aggregate_without_its_name(self):
        doc = {"context": {}, "benchmarks": [
            {"name": "a_mean", "run_name": "a", "run_type": "aggregate"}]}
        with self.assertRaisesRegex(results.ResultsError, "without \"aggregate_name\""):
            results.load(self.write("agg.json", json.dumps(doc)))


class StatisticsTest(unittest.TestCase):
    """Figures computed by hand, the way Google Benchmark 1.7.1 defines them."""

    def test_even_count(self):
        s = results.statistics([10, 12, 11, 15])
        self.assertEqual(s["median"], 11.5)          # mean of the two middle values
        self.assertEqual(s["mean"], 12.0)
        self.assertAlmostEqual(s["stddev"], math.sqrt(14 / 3), places=12)   # n - 1
        self.assertAlmostEqual(s["cv"], math.sqrt(14 / 3) / 12, places=12)  # a fraction

    def test_odd_count(self):
        s = results.statistics([3, 1, 2])
        self.assertEqual((s["median"], s["mean"]), (2.0, 2.0))
        self.assertAlmostEqual(s["stddev"], 1.0, places=12)  # from the mean of squares, as
        self.assertAlmostEqual(s["cv"], 0.5, places=12)      # Google Benchmark: not exactly 1

    def test_two_values_median_is_their_mean(self):
        s = results.statistics([4, 6])
        self.assertEqual(s["median"], 5.0)
        self.assertAlmostEqual(s["stddev"], math.sqrt(2), places=12)

    def test_one_value(self):
        self.assertEqual(results.statistics([7]),
                         {"median": 7.0, "mean": 7.0, "stddev": 0.0, "cv": 0.0})


class AggregatesTest(unittest.TestCase):
    def doc(self):
        run = "create/fiber/workers:1/mode:sequential/n:100"
        entries = [iteration(run, i, 4, real_time=t, cpu_time=t / 2, ns_per_task=c, tasks=100,
                             label="bound:cap")
                   for i, (t, c) in enumerate(zip((100, 110, 90, 120), (10, 12, 11, 15)))]
        entries.append(iteration("max_count/std_thread", 0, 1, real_time=5.0, cpu_time=5.0,
                                 max_tasks=32749))
        done = [iteration("switch/go/procs:1", i, 2, real_time=t, cpu_time=t) for i, t in enumerate((1, 3))]
        done.append({"name": "switch/go/procs:1_mean", "run_name": "switch/go/procs:1",
                     "run_type": "aggregate", "aggregate_name": "mean", "real_time": 2})
        return {"context": {}, "benchmarks": entries + done}

    def test_appends_google_benchmarks_four_aggregates(self):
        doc = results.add_aggregates(self.doc())
        added = {e["name"]: e for e in doc["benchmarks"] if e["run_type"] == "aggregate"
                 and e["run_name"].startswith("create/")}
        prefix = "create/fiber/workers:1/mode:sequential/n:100"
        self.assertEqual(list(added), [f"{prefix}_{a}" for a in ("median", "mean", "stddev", "cv")])
        median, mean, stddev, cv = added.values()
        for entry, name in zip((median, mean, stddev, cv), ("median", "mean", "stddev", "cv")):
            self.assertEqual(entry["aggregate_name"], name)
            self.assertEqual(entry["run_name"], prefix)
            self.assertEqual((entry["repetitions"], entry["iterations"], entry["threads"]), (4, 4, 1))
            self.assertEqual(entry["label"], "bound:cap")
            self.assertNotIn("repetition_index", entry)
        self.assertEqual(median["aggregate_unit"], "time")
        self.assertEqual(cv["aggregate_unit"], "percentage")
        self.assertEqual(median["real_time"], 105.0)
        self.assertEqual(mean["real_time"], 105.0)
        self.assertAlmostEqual(stddev["real_time"], 12.909944487358056, places=10)
        self.assertAlmostEqual(cv["real_time"], 12.909944487358056 / 105, places=12)
        self.assertEqual(median["cpu_time"], 52.5)
        self.assertEqual(median["ns_per_task"], 11.5)
        self.assertAlmostEqual(stddev["ns_per_task"], math.sqrt(14 / 3), places=12)
        self.assertEqual((median["tasks"], stddev["tasks"], cv["tasks"]), (100.0, 0.0, 0.0))

    def test_leaves_single_runs_and_aggregated_runs_alone(self):
        doc = results.add_aggregates(self.doc())
        names = [e["name"] for e in doc["benchmarks"]]
        self.assertEqual([n for n in names if n.startswith("max_count")], ["max_count/std_thread"])
        self.assertEqual([n for n in names if n.startswith("switch")],
                         ["switch/go/procs:1", "switch/go/procs:1", "switch/go/procs:1_mean"])

    def test_failed_repetitions_are_left_out_of_the_statistics(self):
        doc = self.doc()
        doc["benchmarks"][3].update(error_occurred=True, error_message="spawn failed")
        mean = support.entries_by_name(results.add_aggregates(doc))[
            "create/fiber/workers:1/mode:sequential/n:100_mean"]
        self.assertEqual(mean["ns_per_task"], 11.0)
        self.assertEqual(mean["iterations"], 4)  # Google Benchmark counts every report

    def test_fixture_aggregates_match_their_repetitions(self):
        for name in ("run_a.json", "run_b.json", "run_slow.json", "partial.json", "echo.json"):
            doc = results.load(support.fixture(name))
            for summary in results.summarize(doc).values():
                for counter, figure in summary.figures.items():
                    if len(figure.values) < 2:
                        continue
                    expected = results.statistics(figure.values)
                    for key in ("median", "mean", "stddev"):
                        got = getattr(figure, key)
                        if math.isnan(expected[key]):
                            self.assertTrue(math.isnan(got))
                        else:
                            self.assertAlmostEqual(got, expected[key], places=6,
                                                   msg=f"{name} {summary.run_name} {counter} {key}")


class OrderMergeWriteTest(support.ScratchTestCase):
    def test_sort_entries(self):
        doc = results.add_aggregates({"context": {}, "benchmarks": [
            iteration("b", i, 3, real_time=i + 1) for i in (2, 0, 1)] + [
            iteration("a", i, 2, real_time=i + 1) for i in (1, 0)]})
        doc["benchmarks"].reverse()
        results.sort_entries(doc)
        self.assertEqual([e["name"] for e in doc["benchmarks"]],
                         ["a", "a", "a_median", "a_mean", "a_stddev", "a_cv",
                          "b", "b", "b", "b_median", "b_mean", "b_stddev", "b_cv"])
        self.assertEqual([e.get("repetition_index") for e in doc["benchmarks"][6:9]], [0, 1, 2])

    def test_merge_child(self):
        doc = {"context": {"host_name": "alpha", "greenbench": {"host": "alpha", "warnings": ["w1"]}},
               "benchmarks": [iteration("x", i, 3, real_time=1) for i in range(3)]
               + [iteration("y", 0, 1, real_time=5)]}
        ctx = doc["context"]["greenbench"]
        go = {"context": {"host_name": "beta", "executable": "greenbench-go",
                          "greenbench": {"host": "beta", "peer": "go", "gomaxprocs": 2, "isolation": "process",
                                         "go_version": "go1.19", "warnings": ["cpufreq unknown", "w2"]}},
              "benchmarks": [iteration("x", i, 2, real_time=2) for i in range(2)]}
        results.merge_child(doc, go, "x")
        probe = {"context": {"greenbench": {"warnings": ["cpufreq unknown"]}},
                 "benchmarks": [iteration("z", 0, 1, real_time=7)]}
        results.merge_child(doc, probe, "z")
        # The file's own keys stay; Google Benchmark's keys it lacked and the peers'
        # versions join; the peer's per-entry keys do not; warnings are kept, by entry.
        self.assertIs(doc["context"]["greenbench"], ctx)
        self.assertEqual(doc["context"]["host_name"], "alpha")
        self.assertEqual(doc["context"]["executable"], "greenbench-go")
        self.assertEqual(ctx, {"host": "alpha", "warnings": ["w1"], "go_version": "go1.19",
                               "entry_warnings": {"cpufreq unknown": ["x", "z"], "w2": ["x"]}})
        self.assertEqual([(e["name"], e["real_time"]) for e in doc["benchmarks"]],
                         [("x", 2), ("x", 2), ("y", 5), ("z", 7)])
        self.assertEqual(go["context"]["greenbench"]["warnings"], ["cpufreq unknown", "w2"])  # input untouched

    def test_merge_child_refuses_entries_of_another_name(self):
        doc = {"context": {"greenbench": {}}, "benchmarks": []}
        child = {"context": {}, "benchmarks": [iteration("skynet/go/procs:2/n:1000000", 0, 1, real_time=1)]}
        with self.assertRaisesRegex(results.ResultsError, "the child wrote skynet/go/procs:2/n:1000000, "
                                                          "not skynet/go/procs:2/via:join/n:1000000"):
            results.merge_child(doc, child, "skynet/go/procs:2/via:join/n:1000000")
        # A child that measures several runs (the Python peer's gil) names them all.
        both = {"context": {}, "benchmarks": [iteration("gil/python_thread/workers:2/job:cpu", 0, 1, real_time=1),
                                              iteration("gil/python_process/workers:2/job:cpu", 0, 1, real_time=1)]}
        results.merge_child(doc, both, "gil/python", ["gil/python_thread/workers:2/job:cpu",
                                                       "gil/python_process/workers:2/job:cpu"])
        self.assertEqual(len(doc["benchmarks"]), 2)
        with self.assertRaisesRegex(results.ResultsError, "not gil/python_process/workers:2/job:cpu$"):
            results.merge_child(doc, both, "gil/python", ["gil/python_process/workers:2/job:cpu"])
        with self.assertRaisesRegex(results.ResultsError, "wrote no entry"):
            results.merge_child(doc, {"context": {}, "benchmarks": []}, "x")

    def test_concat_numbers_repetitions_from_one_process_each(self):
        # Each timing process ran one repetition and calls it 0 of 1; its aggregates go.
        def process(ns):
            one = iteration("create/fiber/workers:1/mode:batch/n:10", 0, 1, ns_per_task=ns)
            aggregate = dict(one, name=one["name"] + "_median", run_type="aggregate", aggregate_name="median")
            del aggregate["repetition_index"]
            return {"context": {"host_name": "h"}, "benchmarks": [one, aggregate]}
        doc = results.concat_repetitions([process(52.0), process(50.0), process(55.0)])
        self.assertEqual([(e["repetition_index"], e["repetitions"], e["ns_per_task"]) for e in doc["benchmarks"]],
                         [(0, 3, 52.0), (1, 3, 50.0), (2, 3, 55.0)])
        self.assertEqual(doc["context"], {"host_name": "h"})

    def test_write_atomic_round_trips_nan(self):
        doc = copy.deepcopy(results.load(support.fixture("run_a.json")))
        path = os.path.join(self.tmp, "out.json")
        results.write_atomic(doc, path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue('"kernel_bytes_per_task": NaN,' in text)
        self.assertEqual(json.dumps(results.load(path), sort_keys=True), json.dumps(doc, sort_keys=True))
        self.assertEqual(os.listdir(self.tmp), ["out.json"])

    def test_interrupted_write_keeps_the_old_file(self):
        path = os.path.join(self.tmp, "out.json")
        results.write_atomic({"context": {}, "benchmarks": []}, path)
        with self.assertRaises(TypeError):
            results.write_atomic({"context": {}, "benchmarks": [object()]}, path)
        self.assertEqual(results.load(path), {"context": {}, "benchmarks": []})
        self.assertEqual(os.listdir(self.tmp), ["out.json"])


class NamesAndDirectionsTest(unittest.TestCase):
    def test_counter_direction(self):
        expected = {"ns_per_task": "lower", "ns_per_switch": "lower", "ms_wall": "lower",
                    "seconds": "lower", "rss_bytes_per_task": "lower",
                    "kernel_bytes_per_task": "lower", "bytes_per_task": "lower",
                    "max_tasks": "higher", "tasks_in_8GiB": "higher", "speedup": "higher",
                    "tasks": None, "sum": None, "tasks_alive": None, "switches": None,
                    "map_count": None, "something_else": None}
        self.assertEqual({name: results.counter_direction(name) for name in expected}, expected)
        self.assertTrue(results.is_fact("sum"))
        self.assertFalse(results.is_fact("something_else"))

    def test_echo_counter_directions_follow_the_format_doc(self):
        expected = {"requests_per_second": "higher", "max_conns": "higher",
                    "ns_p50": "lower", "ns_p99": "lower", "ns_p999": "lower",
                    "server_rss_bytes_per_conn": "lower", "server_cpu_ns_per_request": "lower",
                    "client_cpu_ns_per_request": "lower", "seconds": "lower",
                    "requests": None, "conns": None, "request_bytes": None, "client_threads": None,
                    "nofile_limit": None}
        self.assertEqual({name: results.counter_direction(name) for name in expected}, expected)
        for fact in ("requests", "conns", "request_bytes", "client_threads", "nofile_limit"):
            self.assertTrue(results.is_fact(fact), fact)

    def test_units_of_echo_counters(self):
        shown = {name: units.format_quantity(value, units.unit_of(name)) for name, value in (
            ("requests_per_second", 52512.03), ("ns_p99", 61_800_000), ("server_cpu_ns_per_request", 11489.2),
            ("server_rss_bytes_per_conn", 8882.2), ("request_bytes", 64), ("max_conns", 19968),
            ("nofile_limit", 20000))}
        self.assertEqual(shown, {"requests_per_second": "52,512/s", "ns_p99": "61.8 ms",
                                 "server_cpu_ns_per_request": "11.5 µs",
                                 "server_rss_bytes_per_conn": "8.67 KiB", "request_bytes": "64.0 B",
                                 "max_conns": "19,968", "nofile_limit": "20,000"})

    def test_kernel_counts_per_operation_read_as_plain_decimals(self):
        self.assertEqual(results.counter_direction("voluntary_switches_per_op"), "lower")
        self.assertEqual(results.counter_direction("minor_faults_per_op"), "lower")
        unit = units.unit_of("voluntary_switches_per_op")
        shown = [units.format_quantity(v, unit) for v in (6e-06, 0.001041, 0.54, 1.0)]
        self.assertEqual(shown, ["0.000006", "0.001041", "0.54", "1"])

    def test_a_runtime_parameter_goes_after_the_runtime_s_own(self):
        self.assertEqual(results.with_runtime_param("create/std_thread/mode:batch/n:10", "cpuset", 1),
                         "create/std_thread/cpuset:1/mode:batch/n:10")
        pinned = results.with_runtime_param("skynet/fiber/workers:1/via:join/n:10", "cpuset", 1)
        self.assertEqual(pinned, "skynet/fiber/workers:1/cpuset:1/via:join/n:10")
        self.assertEqual(results.parse_name(pinned).config, "fiber workers:1 cpuset:1")
        doc = {"benchmarks": [{"name": "max_count/go/procs:1", "run_name": "max_count/go/procs:1"},
                              {"name": "max_count/go/procs:1_median", "run_name": "max_count/go/procs:1"}]}
        results.with_runtime_param_in_doc(doc, "cpuset", 1)
        self.assertEqual([(e["name"], e["run_name"]) for e in doc["benchmarks"]],
                         [("max_count/go/procs:1/cpuset:1", "max_count/go/procs:1/cpuset:1"),
                          ("max_count/go/procs:1/cpuset:1_median", "max_count/go/procs:1/cpuset:1")])

    def test_parse_name(self):
        name = results.parse_name("create/boost_fiber/sched:work_stealing/workers:4/alloc:pooled/mode:batch/n:1000")
        self.assertEqual(name.config, "boost_fiber sched:work_stealing workers:4 alloc:pooled")
        self.assertEqual(name.case, "mode:batch n:1000")
        self.assertEqual(name.param("n"), "1000")
        gil = results.parse_name("gil/fiber/workers:4/job:cpu/workers:2")
        self.assertEqual((gil.config, gil.case), ("fiber workers:4", "job:cpu workers:2"))
        self.assertEqual(results.parse_name("max_count/std_thread").case, "")
        echo = results.parse_name("echo/epoll/loops:1/conns:1000")
        self.assertEqual((echo.config, echo.case), ("epoll loops:1", "conns:1000"))
        self.assertEqual(results.parse_name("echo_max_conns/go/procs:2").config, "go procs:2")

    def test_summary_keeps_each_repetitions_label(self):
        summary = results.summarize(results.load(support.fixture("echo.json")))["echo/fiber/workers:1/conns:100"]
        self.assertEqual((summary.label, summary.labels), ("", ["", "client_saturated"]))

    def test_summarize_reads_the_files_aggregates(self):
        doc = results.load(support.fixture("run_a.json"))
        summary = results.summarize(doc)["create/fiber/workers:1/mode:sequential/n:10000"]
        median = support.entries_by_name(doc)["create/fiber/workers:1/mode:sequential/n:10000_median"]
        self.assertEqual(summary.figures["ns_per_task"].median, median["ns_per_task"])
        self.assertEqual(len(summary.figures["ns_per_task"].values), 5)
        self.assertEqual(results.summarize(doc)["max_count/std_thread"].label, "bound:max_map_count")


if __name__ == "__main__":
    unittest.main()
