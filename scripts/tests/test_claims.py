"""Tests of scripts/claims.json and greenbench/claims.py: the file is well formed and
names only counters the format has; verdicts follow the rules, and a claim without its
runs reads "not measured"."""

import os
import re
import unittest

import support
from greenbench import claims, results

CLAIMS = os.path.join(support.SCRIPTS, "claims.json")
# The counters docs/results-format.md defines.
FORMAT_COUNTERS = {
    "ns_per_task", "tasks", "ns_per_switch", "switches", "rss_bytes_per_task",
    "pss_bytes_per_task", "vsz_bytes_per_task", "kernel_bytes_per_task", "tasks_alive",
    "max_tasks", "seconds", "bytes_per_task", "tasks_in_8GiB", "map_count", "ms_wall", "sum",
    "speedup"}


def summaries(*runs):
    """{run_name: RunSummary} from (run_name, {counter: value}, label) triples."""
    entries = []
    for run_name, figures, label in runs:
        entry = {"name": run_name, "run_name": run_name, "run_type": "iteration",
                 "repetitions": 1, "repetition_index": 0}
        entry.update(figures)
        if label:
            entry["label"] = label
        entries.append(entry)
    return results.summarize({"context": {}, "benchmarks": entries})


class ClaimsFileTest(unittest.TestCase):
    def setUp(self):
        self.doc = claims.load_claims(CLAIMS)

    def test_well_formed(self):
        ids = [c["id"] for c in self.doc["claims"]]
        self.assertEqual(len(ids), len(set(ids)))
        for claim in self.doc["claims"]:
            for source in claim["sources"]:
                self.assertRegex(source, r"^\d{3}_[0-9a-f]{16}\.txt$")
            self.assertIn("text", claim["figure"])
            self.assertIn(claim["figure"]["unit"], ("bytes", "ns", "count", "x"))
            on = claim["judge"]["on"]
            for column in (on if isinstance(on, list) else [on]):
                if claim["measures"]:
                    self.assertIn(column, claim["measures"], claim["id"])
            for spec in claim["measures"].values():
                named = spec["counters"] + spec.get("and_if_measured", [])
                self.assertLessEqual(set(named), FORMAT_COUNTERS, claim["id"])
                self.assertTrue(re.match(r"^(create|switch|memory|max_count|skynet|gil)/", spec["entries"]))

    def test_every_note_is_cited(self):
        cited = {s[:3] for c in self.doc["claims"] for s in c["sources"]}
        self.assertEqual(cited, {"000", "001", "002", "003", "004"})

    def test_nothing_measured_means_not_measured(self):
        judged = claims.judge_all(self.doc, {})
        self.assertEqual({j.verdict for j in judged}, {claims.NOT_MEASURED})
        self.assertTrue(all(j.why for j in judged))


class VerdictTest(unittest.TestCase):
    def setUp(self):
        self.doc = claims.load_claims(CLAIMS)

    def judge(self, claim_id, found):
        return next(j for j in claims.judge_all(self.doc, found) if j.claim["id"] == claim_id)

    def test_range_holds_within_tolerance_and_is_off_outside(self):
        def thread_switch(ns):
            return summaries(("switch/std_thread/via:yield/cpus:1", {"ns_per_switch": ns}, ""))
        self.assertEqual(self.judge("thread-switch-1-2us", thread_switch(2150)).verdict, "holds")
        self.assertEqual(self.judge("thread-switch-1-2us", thread_switch(5000)).verdict,
                         "off by ×2.5 (higher)")
        self.assertEqual(self.judge("thread-switch-1-2us", thread_switch(100)).verdict,
                         "off by ×10 (lower)")

    def test_largest_n_then_best_run(self):
        found = summaries(("create/go/procs:1/mode:sequential/n:100", {"ns_per_task": 900}, ""),
                          ("create/go/procs:1/mode:sequential/n:10000", {"ns_per_task": 600}, ""),
                          ("create/go/procs:4/mode:sequential/n:10000", {"ns_per_task": 400}, ""))
        judged = self.judge("goroutine-create-1us", found)
        self.assertEqual(judged.measured["goroutine"].run_name, "create/go/procs:4/mode:sequential/n:10000")
        self.assertEqual(judged.verdict, "off by ×2.5 (lower)")

    def test_ratio_needs_both_sides(self):
        thread = ("create/std_thread/mode:sequential/n:1000", {"ns_per_task": 20000}, "")
        go = ("create/go/procs:1/mode:sequential/n:1000", {"ns_per_task": 400}, "")
        self.assertEqual(self.judge("create-1000x", summaries(thread)).verdict, "not measured")
        self.assertEqual(self.judge("create-1000x", summaries(thread, go)).verdict, "off by ×20 (lower)")

    def test_nan_is_not_measured(self):
        found = summaries(("memory/go/procs:1/n:1000", {"rss_bytes_per_task": float("nan")}, ""))
        self.assertEqual(self.judge("goroutine-stack-2KB", found).verdict, "not measured")

    def test_os_limit(self):
        def threads(count, bound):
            return summaries(("max_count/std_thread", {"max_tasks": count}, f"bound:{bound}"))
        claim = "thousands-of-threads-hit-os-limits"
        self.assertEqual(self.judge(claim, threads(4090, "cgroup_pids")).verdict, "holds")
        self.assertEqual(self.judge(claim, threads(5000, "errno:EAGAIN")).verdict, "holds")
        self.assertEqual(self.judge(claim, threads(32749, "max_map_count")).verdict, "does not hold here")
        self.assertEqual(self.judge(claim, threads(5000, "cap")).verdict, "not measured")

    def test_reaches(self):
        def goroutines(count, bound):
            return summaries(("max_count/go/procs:1", {"max_tasks": count}, f"bound:{bound}"))
        claim = "millions-of-goroutines"
        self.assertEqual(self.judge(claim, goroutines(2_000_000, "cap")).verdict, "holds")
        self.assertEqual(self.judge(claim, goroutines(500_000, "memory_budget")).verdict, "does not hold here")
        self.assertEqual(self.judge(claim, goroutines(500_000, "cap")).verdict, "not measured")


if __name__ == "__main__":
    unittest.main()
