"""Tests of scripts/compare run as CI runs it: two runs of one build pass, an injected
2x slowdown fails (an echo server's halved requests/s too, not its doubled one), noise
and changed facts are reported without failing, instruction counts are held to 1%,
files with no run in common exit 3, the markdown, json and --changes-only outputs say
the same verdicts, and bad input or flags exit 2 with a message."""

import json
import os
import unittest

import support
from greenbench import results

SLOWED = ("create/fiber/workers:1/mode:sequential/n:1000", "create/fiber/workers:1/mode:sequential/n:10000")


def verdict_lines(stdout, verdict):
    """{(run name, counter)} of the lines with a verdict."""
    found = set()
    for line in stdout.splitlines():
        if line.startswith(verdict.upper() + " "):
            fields = line.split()
            found.add((fields[1], fields[2]))
    return found


class CompareFixturesTest(unittest.TestCase):
    def test_two_runs_of_one_build_pass(self):
        run = support.run_script("compare", support.fixture("run_a.json"), support.fixture("run_b.json"))
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(verdict_lines(run.stdout, "worse"), set())
        summary = run.stdout.splitlines()[-1]
        self.assertIn("23 common runs; 55 figures: 0 worse, 0 better, 53 same, 0 noise, 2 n/a", summary)
        self.assertTrue(summary.endswith("OK: nothing worse"))

    def test_injected_2x_slowdown_fails(self):
        run = support.run_script("compare", support.fixture("run_a.json"), support.fixture("run_slow.json"))
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertEqual(verdict_lines(run.stdout, "worse"), {(name, "ns_per_task") for name in SLOWED})
        line = next(l for l in run.stdout.splitlines() if l.startswith("WORSE") and SLOWED[0] + " " in l)
        self.assertIn("259 ns → 511 ns  +97.3%  (limit ±10.0%, U test p=0.00397)", line)
        self.assertTrue(run.stdout.splitlines()[-1].endswith("FAILED: 2 figure(s) worse"))

    def test_github_annotations(self):
        run = support.run_script("compare", support.fixture("run_a.json"), support.fixture("run_slow.json"),
                                 "--format", "github")
        errors = [l for l in run.stdout.splitlines() if l.startswith("::error ")]
        self.assertEqual(len(errors), 2)
        self.assertTrue(errors[0].startswith("::error title=greenbench: ns_per_task worse::create/fiber/"))

    def test_only_filters_runs(self):
        run = support.run_script("compare", support.fixture("run_a.json"), support.fixture("run_slow.json"),
                                 "--only", "create/std_thread*", "--only", "memory/*")
        self.assertEqual(run.returncode, 0, run.stdout)
        self.assertFalse([l for l in run.stdout.splitlines()[:-1] if "create/fiber" in l])

    def test_runs_in_one_file_only_are_listed_not_failed(self):
        run = support.run_script("compare", support.fixture("partial.json"), support.fixture("run_a.json"))
        self.assertEqual(run.returncode, 0, run.stdout)
        self.assertIn("ONLY NEW     switch/go/procs:1/via:handoff/cpus:1", run.stdout)
        self.assertIn("base ran on beta, new on alpha", run.stdout)
        # beta's threads stopped at a cgroup's pids limit: alpha's are better, not a failure.
        self.assertEqual(verdict_lines(run.stdout, "better"), {("max_count/std_thread", "max_tasks")})


class CompareCraftedTest(support.ScratchTestCase):
    """Results made in the test, to isolate one rule at a time."""

    def results_file(self, name, runs):
        """A results file from {run_name: [{counter: value} per repetition]}, with aggregates."""
        entries = []
        for run_name, repetitions in runs.items():
            for i, counters in enumerate(repetitions):
                entry = {"name": run_name, "run_name": run_name, "run_type": "iteration",
                         "repetitions": len(repetitions), "repetition_index": i, "threads": 1,
                         "iterations": 1, "real_time": 1.0, "cpu_time": 1.0, "time_unit": "ns"}
                entry.update(counters)
                entries.append(entry)
        doc = results.add_aggregates({"context": {"host_name": "alpha"}, "benchmarks": entries})
        path = os.path.join(self.tmp, name)
        results.write_atomic(doc, path)
        return path

    def compare(self, base, new, *flags):
        return support.run_script("compare", self.results_file("base.json", base),
                                  self.results_file("new.json", new), *flags)

    def test_moved_median_without_the_u_tests_agreement_is_noise(self):
        run_name = "switch/fiber/workers:1/via:yield/cpus:1"
        base = {run_name: [{"ns_per_switch": v} for v in (100, 101, 102, 103, 104)]}
        new = {run_name: [{"ns_per_switch": v} for v in (100.5, 101.5, 118, 119, 120)]}
        run = self.compare(base, new, "--noise-factor", "0.1")
        self.assertEqual(run.returncode, 0, run.stdout)
        self.assertEqual(verdict_lines(run.stdout, "noise"), {(run_name, "ns_per_switch")})
        self.assertIn("U test p=0.155", run.stdout)

    def test_the_limit_grows_with_the_noise(self):
        run_name = "create/go/procs:4/mode:batch/n:1000"
        base = {run_name: [{"ns_per_task": v} for v in (100, 130, 80, 120, 95)]}
        new = {run_name: [{"ns_per_task": v} for v in (112, 140, 90, 126, 100)]}
        run = self.compare(base, new)  # median +12%; cv 19.0% and 17.6%: limit 3 x 19.0%
        self.assertEqual(run.returncode, 0, run.stdout)
        self.assertEqual(verdict_lines(run.stdout, "same"), {(run_name, "ns_per_task")})
        self.assertIn("100 ns → 112 ns  +12.0%  (limit ±57.1%)", run.stdout)
        run = self.compare(base, new, "--noise-factor", "0.1")  # limit 10%: the U test decides
        self.assertEqual(verdict_lines(run.stdout, "noise"), {(run_name, "ns_per_task")})

    def test_higher_is_better_and_single_repetitions(self):
        base = {"max_count/std_thread": [{"max_tasks": 32749, "map_count": 65530}]}
        new = {"max_count/std_thread": [{"max_tasks": 16000, "map_count": 32100}]}
        run = self.compare(base, new, "--format", "github")
        self.assertEqual(run.returncode, 1, run.stdout)
        self.assertEqual(verdict_lines(run.stdout, "worse"), {("max_count/std_thread", "max_tasks")})
        self.assertEqual(verdict_lines(run.stdout, "mismatch"), {("max_count/std_thread", "map_count")})
        self.assertEqual(self.compare(new, base).returncode, 0)  # more tasks is better

    def test_changed_facts_are_mismatches_not_failures(self):
        run_name = "skynet/fiber/workers:1/n:1000000"
        base = {run_name: [{"ms_wall": 95, "sum": 499999500000}] * 3}
        new = {run_name: [{"ms_wall": 95, "sum": 499999500001}] * 3}
        run = self.compare(base, new, "--format", "github")
        self.assertEqual(run.returncode, 0, run.stdout)
        self.assertEqual(verdict_lines(run.stdout, "mismatch"), {(run_name, "sum")})
        self.assertIn("::warning title=greenbench: sum changed::", run.stdout)

    def test_a_counter_in_one_file_only_is_listed(self):
        base = {"memory/fiber/workers:1/n:1000": [{"rss_bytes_per_task": 4600}] * 3}
        new = {"memory/fiber/workers:1/n:1000": [{"rss_bytes_per_task": 4600, "pss_bytes_per_task": 4620}] * 3}
        run = self.compare(base, new)
        self.assertEqual(run.returncode, 0, run.stdout)
        self.assertIn("ONLY IN NEW  memory/fiber/workers:1/n:1000  pss_bytes_per_task  — → 4.51 KiB", run.stdout)

    def echo_scaled(self, name, run_name, counter, factor):
        """The echo fixture with one counter of one run scaled in every repetition."""
        doc = results.load(support.fixture("echo.json"))
        doc["benchmarks"] = [e for e in doc["benchmarks"]
                             if e["run_name"] != run_name or e["run_type"] == "iteration"]
        for entry in doc["benchmarks"]:
            if entry["run_name"] == run_name:
                entry[counter] *= factor
        path = os.path.join(self.tmp, name)
        results.write_atomic(results.sort_entries(results.add_aggregates(doc)), path)
        return path

    def test_echo_requests_per_second_is_higher_is_better(self):
        run_name = "echo/go/procs:2/conns:1000"
        base = support.fixture("echo.json")
        halved = support.run_script("compare", base, self.echo_scaled("halved.json", run_name,
                                                                       "requests_per_second", 0.5))
        self.assertEqual(halved.returncode, 1, halved.stdout)
        self.assertEqual(verdict_lines(halved.stdout, "worse"), {(run_name, "requests_per_second")})
        self.assertIn("53,967/s → 26,984/s  -50.0%", halved.stdout)
        doubled = support.run_script("compare", base, self.echo_scaled("doubled.json", run_name,
                                                                        "requests_per_second", 2))
        self.assertEqual(doubled.returncode, 0, doubled.stdout)
        self.assertEqual(verdict_lines(doubled.stdout, "better"), {(run_name, "requests_per_second")})
        self.assertEqual(verdict_lines(doubled.stdout, "worse"), set())

    def test_echo_cpu_per_request_is_lower_is_better(self):
        run_name = "echo/std_thread/conns:100"
        run = support.run_script("compare", support.fixture("echo.json"),
                                 self.echo_scaled("costly.json", run_name, "server_cpu_ns_per_request", 2))
        self.assertEqual(run.returncode, 1, run.stdout)
        self.assertEqual(verdict_lines(run.stdout, "worse"), {(run_name, "server_cpu_ns_per_request")})

    def test_instruction_counts_are_held_to_one_percent(self):
        run_name = "switch/fiber/workers:1/via:yield/cpus:1/measure:instructions"
        base = {run_name: [{"instructions_per_switch": 200.0, "switches": 100000}] * 3}
        up_1_5 = {run_name: [{"instructions_per_switch": 203.0, "switches": 100000}] * 3}
        up_0_5 = {run_name: [{"instructions_per_switch": 201.0, "switches": 100000}] * 3}
        run = self.compare(base, up_1_5)
        self.assertEqual(run.returncode, 1, run.stdout)
        self.assertEqual(verdict_lines(run.stdout, "worse"), {(run_name, "instructions_per_switch")})
        self.assertIn("200.0 instr → 203.0 instr  +1.5%  (limit ±1.0%)", run.stdout)
        self.assertEqual(self.compare(base, up_0_5).returncode, 0)
        self.assertEqual(self.compare(base, up_1_5, "--instructions-threshold", "2").returncode, 0)
        # A timing that moved 1.5% is within the timing threshold.
        timing = {run_name: [{"ns_per_switch": 200.0}] * 3}
        self.assertEqual(self.compare(timing, {run_name: [{"ns_per_switch": 203.0}] * 3}).returncode, 0)

    def test_no_run_in_common_exits_3(self):
        base = {"create/fiber/workers:1/mode:batch/n:1000": [{"ns_per_task": 100}] * 3}
        renamed = {"create/fiber/workers:1/mode:batch/n:2000": [{"ns_per_task": 100}] * 3}
        run = self.compare(base, renamed, "--format", "github")
        self.assertEqual(run.returncode, 3, run.stdout)
        self.assertIn("compare: note: no run is in both files", run.stdout)
        self.assertIn("::error title=greenbench: nothing compared::", run.stdout)
        self.assertTrue(run.stdout.splitlines()[-1].endswith("NOTHING COMPARED: no run is in both"))
        only = support.run_script("compare", support.fixture("run_a.json"), support.fixture("run_b.json"),
                                  "--only", "nothing/*")
        self.assertEqual(only.returncode, 3, only.stdout)
        self.assertIn("no run is in both files and matches --only", only.stdout)

    def test_markdown_json_and_changes_only_say_the_same(self):
        a, slow = support.fixture("run_a.json"), support.fixture("run_slow.json")
        text = support.run_script("compare", a, slow, "--changes-only")
        self.assertEqual(text.returncode, 1)
        self.assertEqual(verdict_lines(text.stdout, "same"), set())
        self.assertEqual(verdict_lines(text.stdout, "worse"), {(name, "ns_per_task") for name in SLOWED})
        full = support.run_script("compare", a, slow)
        self.assertEqual(text.stdout.splitlines()[-1], full.stdout.splitlines()[-1])

        data = support.run_script("compare", a, slow, "--format", "json")
        self.assertEqual(data.returncode, 1, data.stderr)
        doc = json.loads(data.stdout)
        self.assertEqual(doc["status"], 1)
        worse = {(c["run_name"], c["counter"]) for c in doc["changes"] if c["verdict"] == "worse"}
        self.assertEqual(worse, {(name, "ns_per_task") for name in SLOWED})
        self.assertEqual(doc["counts"]["figures"]["worse"], 2)
        one = next(c for c in doc["changes"] if c["run_name"] == SLOWED[0] and c["counter"] == "ns_per_task")
        self.assertEqual((one["test"], len(one["base_values"])), ("U test", 5))
        self.assertAlmostEqual(one["p"], 0.00397, places=5)
        changed = json.loads(support.run_script("compare", a, slow, "--format", "json",
                                                "--changes-only").stdout)
        self.assertTrue(all(c["verdict"] not in ("same", "info") for c in changed["changes"]))

        md = support.run_script("compare", a, slow, "--format", "markdown", "--changes-only")
        self.assertEqual(md.returncode, 1)
        self.assertTrue(md.stdout.startswith("### greenbench compare: FAILED: 2 figure(s) worse"))
        rows = support.markdown_table(md.stdout, md.stdout.splitlines()[2])
        self.assertEqual([(r["verdict"], r["counter"]) for r in rows[:2]], [("**worse**", "`ns_per_task`")] * 2)
        self.assertEqual({r["run"].strip("`") for r in rows[:2]}, set(SLOWED))
        self.assertNotIn("same", {r["verdict"] for r in rows})

    def test_bad_and_foreign_json_exit_2(self):
        good = support.fixture("run_a.json")
        cut = self.write("cut.json", '{"context": {"host_name": "alpha"}, "benchmarks": [')
        foreign = self.write("foreign.json", json.dumps({"benchmarks": [{"name": "x", "real_time": 1}],
                                                         "version": 2}))
        for base, new, message in ((good, cut, "not valid JSON"), (foreign, good, 'no "context" key'),
                                   (good, os.path.join(self.tmp, "absent.json"), "cannot read")):
            run = support.run_script("compare", base, new)
            self.assertEqual(run.returncode, 2, (base, new))
            self.assertIn("compare: error: ", run.stderr)
            self.assertIn(message, run.stderr)
            self.assertNotIn("Traceback", run.stderr)

    def test_bad_flags_exit_2(self):
        good = support.fixture("run_a.json")
        for flags in ((), (good,), (good, good, "--threshold", "-5"), (good, good, "--format", "xml"),
                      (good, good, "--alpha", "zero"), (good, good, "--instructions-threshold", "x"),
                      (good, good, "--changes-only=yes")):
            self.assertEqual(support.run_script("compare", *flags).returncode, 2, flags)


if __name__ == "__main__":
    unittest.main()
