"""Tests of scripts/goals.json and greenbench/goals.py: the file names rows the full
profile runs and counters the format has; each instance of a goal is judged met, met but
not at the worst repetition, not met, or not measured (naming the missing row) by the
rules; a broken goals file is a GoalsError; bench_all's end-of-run summary."""

import json
import math
import os
import unittest

import support
from greenbench import bench_all, catalogue, goals, results
from test_claims import FORMAT_COUNTERS

GOALS = os.path.join(support.SCRIPTS, "goals.json")
FIBER = "switch/fiber/workers:1/via:yield/cpus:1"
GO = "switch/go/procs:1/via:yield/cpus:1"
MEMORY = "memory/fiber/workers:1/n:1000000"


def results_doc(runs):
    """A results document from {run_name: {counter: [a value per repetition]}}."""
    entries = []
    for run_name, counters in runs.items():
        count = len(next(iter(counters.values())))
        for k in range(count):
            entry = {"name": run_name, "run_name": run_name, "run_type": "iteration",
                     "repetitions": count, "repetition_index": k}
            entry.update({counter: values[k] for counter, values in counters.items()})
            entries.append(entry)
    return {"context": {}, "benchmarks": entries}


def summaries(runs):
    return results.summarize(results_doc(runs))


def goal(**changes):
    """A goal of a yield at most 1/4 of Go's, with changes."""
    found = {"id": "yield", "source": "test", "goal": "a yield", "counter": "ns_per_switch",
             "row": FIBER, "over": GO, "at_most": 0.25}
    found.update(changes)
    return {key: value for key, value in found.items() if value is not None}


def judged(the_goal, runs):
    """The one Judgement of a goal without for values."""
    (row, over), = goals.instances(the_goal)
    return goals.judge(the_goal, summaries(runs), row, over)


class GoalsFileTest(unittest.TestCase):
    def setUp(self):
        self.doc = goals.load_goals(GOALS)

    def test_counters_are_the_formats(self):
        for g in self.doc["goals"]:
            self.assertIn(g["counter"], FORMAT_COUNTERS, g["id"])

    def test_every_row_is_one_the_full_profile_runs(self):
        """A renamed entry must not leave a goal that can never be measured."""
        names = {e.name for e in catalogue.entries("full", catalogue.Paths("/src"), 2, 1 << 30, workers=[1, 2])}
        for g in self.doc["goals"]:
            for row, over in goals.instances(g):
                self.assertIn(row, names, g["id"])
                if over:
                    self.assertIn(over, names, g["id"])

    def test_the_issue_goals(self):
        by_id = {g["id"]: g for g in self.doc["goals"]}
        self.assertEqual(goals.instances(by_id["skynet-1m-third-of-go"]), [
            (f"skynet/fiber/workers:{w}/via:{v}/n:1000000", f"skynet/go/procs:{w}/via:{v}/n:1000000")
            for w in ("1", "2") for v in ("join", "channel")])
        self.assertEqual(by_id["parked-task-4.3KiB-all-in"]["at_most"], 4.3 * 1024)
        self.assertAlmostEqual(by_id["yield-quarter-of-go"]["at_most"], 1 / 4)


class JudgeTest(unittest.TestCase):
    def test_met_at_every_repetition(self):
        j = judged(goal(), {FIBER: {"ns_per_switch": [10, 11, 12]}, GO: {"ns_per_switch": [48, 50, 52]}})
        self.assertEqual(j.verdict, goals.MET)
        self.assertAlmostEqual(j.value, 11 / 50)
        self.assertAlmostEqual(j.worst, 12 / 48)  # exactly the bound: within
        self.assertAlmostEqual(j.best, 10 / 52)
        self.assertEqual((j.shown(j.value), j.spread(), j.bound()), ("×0.22", "×0.192–×0.25", "≤ ×0.25"))
        self.assertEqual(j.sides[0].text("ns"), "11.0 ns [10.0 ns–12.0 ns, 3 runs]")

    def test_met_but_not_at_the_worst_repetition(self):
        j = judged(goal(), {FIBER: {"ns_per_switch": [10, 11, 14]}, GO: {"ns_per_switch": [46, 50, 52]}})
        self.assertEqual(j.verdict, goals.MET_NOT_AT_WORST)
        self.assertAlmostEqual(j.worst, 14 / 46)

    def test_not_met_on_the_median_even_when_the_best_repetition_is_within(self):
        j = judged(goal(), {FIBER: {"ns_per_switch": [10, 14, 15]}, GO: {"ns_per_switch": [40, 50, 52]}})
        self.assertEqual(j.verdict, goals.NOT_MET)
        self.assertLess(j.best, 0.25)

    def test_a_three_digit_ratio_just_past_the_bound_does_not_read_as_within(self):
        j = judged(goal(at_most=1 / 3), {FIBER: {"ns_per_switch": [33.4]}, GO: {"ns_per_switch": [100]}})
        self.assertEqual((j.verdict, j.shown(j.value), j.bound()), (goals.NOT_MET, "×0.334", "≤ ×0.333"))

    def test_a_missing_row_is_not_measured_and_named(self):
        j = judged(goal(), {FIBER: {"ns_per_switch": [10, 11, 12]},
                            "switch/go/procs:2/via:yield/cpus:1": {"ns_per_switch": [40, 41, 42]}})
        self.assertEqual(j.verdict, goals.NOT_MEASURED)
        self.assertEqual(goals.verdict_text(j), f"not measured: no row {GO} in this file")
        self.assertEqual((j.value, j.spread()), (None, "—"))

    def test_a_row_without_the_counter_or_with_nan_is_not_measured(self):
        j = judged(goal(), {FIBER: {"ns_per_switch": [math.nan]}, GO: {"switches": [1000]}})
        self.assertEqual(j.why, f"{FIBER}'s ns_per_switch is NaN; {GO} has no ns_per_switch")

    def test_an_absolute_bound(self):
        memory = goal(row=MEMORY, over=None, counter="total_bytes_per_task", at_most=4403.2)
        j = judged(memory, {MEMORY: {"total_bytes_per_task": [4300, 4350, 4420]}})
        self.assertEqual((j.verdict, j.value, j.worst, j.best), (goals.MET_NOT_AT_WORST, 4350, 4420, 4300))
        self.assertEqual((j.shown(j.value), j.spread(), j.bound()), ("4.25 KiB", "4.20 KiB–4.32 KiB", "≤ 4.30 KiB"))
        self.assertEqual(judged(memory, {MEMORY: {"total_bytes_per_task": [4500] * 3}}).verdict, goals.NOT_MET)

    def test_aggregates_only_leave_the_worst_unknown(self):
        doc = {"context": {}, "benchmarks": [
            {"name": f"{FIBER}_{a}", "run_name": FIBER, "run_type": "aggregate", "aggregate_name": a,
             "repetitions": 3, "ns_per_switch": v} for a, v in
            (("mean", 10.0), ("median", 10.0), ("stddev", 1.0), ("cv", 0.1))] + results_doc(
            {GO: {"ns_per_switch": [50, 50, 50]}})["benchmarks"]}
        j = goals.judge(goal(), results.summarize(doc), FIBER, GO)
        self.assertEqual((j.verdict, j.spread()), (goals.MET_WORST_UNKNOWN, "—"))
        self.assertEqual(j.sides[0].text("ns"), "10.0 ns [aggregates only]")

    def test_for_values_make_one_instance_each(self):
        g = goal(row="skynet/fiber/workers:{W}/via:{via}/n:1000000", over="skynet/go/procs:{W}/via:{via}/n:1000000",
                 counter="ns_per_task", **{"for": {"W": ["1", "2"], "via": ["join"]}})
        runs = {"skynet/fiber/workers:2/via:join/n:1000000": {"ns_per_task": [100, 110]},
                "skynet/go/procs:2/via:join/n:1000000": {"ns_per_task": [700, 720]}}
        verdicts = [(j.row, j.verdict) for j in goals.judge_all({"goals": [g]}, summaries(runs))]
        self.assertEqual(verdicts, [("skynet/fiber/workers:1/via:join/n:1000000", goals.NOT_MEASURED),
                                    ("skynet/fiber/workers:2/via:join/n:1000000", goals.MET)])

    def test_summary_lines_count_and_show_what_was_judged(self):
        runs = {FIBER: {"ns_per_switch": [10, 11, 12]}, GO: {"ns_per_switch": [48, 50, 52]}}
        judgements = goals.judge_all({"goals": [goal(), goal(id="absent", row="switch/fiber/workers:9")]},
                                     summaries(runs))
        self.assertEqual(goals.summary_lines(judgements), [
            "goals (scripts/goals.json): 1 met, 1 not measured",
            f"  yield: met: ×0.22 [×0.192–×0.25] ≤ ×0.25  ({FIBER} over {GO})"])

    def test_bench_all_prints_the_summary_or_why_there_is_none(self):
        doc = results_doc({FIBER: {"ns_per_switch": [10, 11, 12]}, GO: {"ns_per_switch": [48, 50, 52]}})
        lines = bench_all.goals_summary(doc)
        self.assertTrue(lines[0].startswith("goals (scripts/goals.json): "), lines)
        self.assertIn("  yield-quarter-of-go: met: ×0.22", "\n".join(lines))
        missing = os.path.join(support.FIXTURES, "no-such-goals.json")
        self.assertEqual(bench_all.goals_summary(doc, missing),
                         [f"goals not judged: {missing}: cannot read the goals: [Errno 2] No such file or "
                          f"directory: '{missing}'"])

    def test_record(self):
        j = judged(goal(), {FIBER: {"ns_per_switch": [10, 11, 12]}, GO: {"ns_per_switch": [48, 50, 52]}})
        found = goals.record(j)
        self.assertEqual((found["verdict"], found["over"], found["rows"][1]["run"], found["rows"][1]["low"]),
                         ("met", GO, GO, 48))


class GoalsErrorTest(support.ScratchTestCase):
    def load(self, *goal_list, text=None):
        path = self.write("goals.json", text if text is not None else json.dumps({"goals": list(goal_list)}))
        return goals.load_goals(path)

    def assertRejected(self, message, *goal_list, text=None):
        with self.assertRaises(goals.GoalsError) as raised:
            self.load(*goal_list, text=text)
        self.assertIn(message, str(raised.exception))

    def test_a_good_file_loads(self):
        self.assertEqual(len(self.load(goal())["goals"]), 1)

    def test_broken_files(self):
        self.assertRejected("cannot read the goals", text='{"goals": [')
        self.assertRejected('no "goals" list', text='{"claims": []}')
        self.assertRejected('goals[0] has no "at_most"', goal(at_most=None))
        self.assertRejected("goal yield: a second goal with this id", goal(), goal())

    def test_an_unknown_row_pattern_field(self):
        self.assertRejected("goal yield: unknown row pattern field {W}: its for lists via",
                            goal(row="switch/fiber/workers:{W}/via:{via}/cpus:1", **{"for": {"via": ["yield"]}}))
        self.assertRejected("goal yield: for lists n, which neither row nor over uses", goal(**{"for": {"n": ["1"]}}))
        self.assertRejected("for must map each field to a non-empty list of strings",
                            goal(row="switch/fiber/workers:{W}", **{"for": {"W": [1]}}))

    def test_an_unknown_key_or_a_bound_that_cannot_bound(self):
        self.assertRejected("goal yield: unknown key at_mots", goal(at_mots=0.5))
        self.assertRejected("at_most must be a positive number", goal(at_most="1/4"))
        self.assertRejected("counter requests_per_second is not a lower-is-better counter",
                            goal(counter="requests_per_second"))


if __name__ == "__main__":
    unittest.main()
