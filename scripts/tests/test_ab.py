"""Tests of bench_all --ab's pairing and judging (greenbench/ab.py, comparison.judge_paired)
on made-up repetitions: the ABBA order, a drift of the machine that cancels in pairs, a
planted +5% that the pairs catch, instruction counts held to 1%, and bad REVs and the
base's worktree (created, then removed) in a scratch git repository."""

import os
import subprocess
import tempfile
import unittest

import support
from greenbench import ab, comparison, results

YIELD = "switch/fiber/workers:1/via:yield/cpus:1"
YIELD_INSTRUCTIONS = YIELD + "/measure:instructions"


def document(runs):
    """A results document from {run_name: [{counter: value} per repetition]}."""
    entries = []
    for run_name, repetitions in runs.items():
        for i, counters in enumerate(repetitions):
            entries.append({"name": run_name, "run_name": run_name, "run_type": "iteration",
                            "repetitions": len(repetitions), "repetition_index": i, **counters})
    return results.add_aggregates({"context": {}, "benchmarks": entries})


def verdicts(base, candidate, rules=comparison.Rules(threshold=0.03)):
    judged = ab.judge(document(base), document(candidate), rules, "base", "candidate")
    return {(c.run_name, c.counter): c for c in judged.changes}, judged


class PairingTest(unittest.TestCase):
    def test_sides_alternate_abba(self):
        self.assertEqual([ab.order(k) for k in range(4)],
                         [("base", "candidate"), ("candidate", "base"),
                          ("base", "candidate"), ("candidate", "base")])

    def test_measure_pairs_runs_each_side_once_per_repetition_in_order(self):
        calls = []

        def measure(entry, k):
            calls.append((entry, k))
            return {"entry": entry, "rep": k}

        docs = ab.measure_pairs({"base": "A", "candidate": "B"}, 3, measure)
        self.assertEqual(calls, [("A", 0), ("B", 0), ("B", 1), ("A", 1), ("A", 2), ("B", 2)])
        self.assertEqual([d["rep"] for d in docs["base"]], [0, 1, 2])
        self.assertEqual([d["entry"] for d in docs["candidate"]], ["B"] * 3)


class PairedJudgingTest(unittest.TestCase):
    # The machine slows down 40% over the run: both sides alike, pair by pair.
    DRIFT = (1.00, 1.08, 1.15, 1.22, 1.31, 1.40)

    def test_drift_cancels_in_pairs(self):
        base = {YIELD: [{"ns_per_switch": 50 * d} for d in self.DRIFT]}
        same = {YIELD: [{"ns_per_switch": 50 * d * f} for d, f in zip(self.DRIFT, (1.01, 0.99, 1.0, 1.02, 0.98, 1.0))]}
        found, judged = verdicts(base, same)
        self.assertEqual(found[(YIELD, "ns_per_switch")].verdict, "same")
        self.assertEqual(judged.status(), 0)

    def test_planted_five_percent_is_caught_despite_the_drift(self):
        base = {YIELD: [{"ns_per_switch": 50 * d} for d in self.DRIFT]}
        slower = {YIELD: [{"ns_per_switch": 50 * d * f}
                          for d, f in zip(self.DRIFT, (1.06, 1.04, 1.05, 1.07, 1.03, 1.045))]}
        found, judged = verdicts(base, slower)
        change = found[(YIELD, "ns_per_switch")]
        self.assertEqual(change.verdict, "worse")
        self.assertEqual(change.test, "signed-rank")
        self.assertAlmostEqual(change.p, 1 / 64)
        self.assertAlmostEqual(change.change, 0.0475, places=3)
        self.assertEqual(judged.status(), 1)
        # Unpaired, the drift hides it: the medians' U test cannot tell the runs apart.
        unpaired, _, _ = comparison.compare_summaries(
            results.summarize(document(base)), results.summarize(document(slower)), comparison.Rules(threshold=0.03))
        self.assertNotEqual([c for c in unpaired if c.counter == "ns_per_switch"][0].verdict, "worse")

    def test_pairs_that_disagree_are_noise(self):
        base = {YIELD: [{"ns_per_switch": 50.0}] * 6}
        mixed = {YIELD: [{"ns_per_switch": 50 * f} for f in (1.10, 0.97, 1.08, 0.99, 1.09, 1.06)]}
        found, judged = verdicts(base, mixed)
        self.assertEqual(found[(YIELD, "ns_per_switch")].verdict, "noise")
        self.assertEqual(judged.status(), 0)

    def test_instruction_counts_are_held_to_one_percent_without_a_test(self):
        base = {YIELD_INSTRUCTIONS: [{"instructions_per_switch": 145.4, "switches": 50000}] * 3}
        up = {YIELD_INSTRUCTIONS: [{"instructions_per_switch": 147.4, "switches": 50000}] * 3}
        found, judged = verdicts(base, up)
        change = found[(YIELD_INSTRUCTIONS, "instructions_per_switch")]
        self.assertEqual((change.verdict, change.test), ("worse", ""))
        self.assertEqual(found[(YIELD_INSTRUCTIONS, "switches")].verdict, "same")
        self.assertEqual(judged.status(), 1)
        found, _ = verdicts(base, {YIELD_INSTRUCTIONS: [{"instructions_per_switch": 146.0, "switches": 50000}] * 3})
        self.assertEqual(found[(YIELD_INSTRUCTIONS, "instructions_per_switch")].verdict, "same")

    def test_nothing_in_common_is_status_3(self):
        _, judged = verdicts({YIELD: [{"ns_per_switch": 50.0}] * 6}, {"other/x": [{"ns_per_switch": 50.0}] * 6})
        self.assertEqual(judged.status(), comparison.EXIT_NOTHING_COMPARED)


class RevisionTest(support.ScratchTestCase):
    def git(self, *argv):
        return subprocess.run(["git", "-C", self.tmp, *argv], check=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True).stdout.strip()

    def setUp(self):
        super().setUp()
        self.git("init", "-q")
        self.git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "--allow-empty", "-m", "one")

    def test_bad_revisions_are_refused_with_a_reason(self):
        for rev, reason in (("no-such-branch", "not a commit of this repository"),
                            ("--upload-pack=x", "takes a commit"), ("", "takes a commit")):
            with self.assertRaises(ab.AbError) as raised:
                ab.resolve(self.tmp, rev)
            self.assertIn(reason, str(raised.exception))
        with tempfile.TemporaryDirectory() as outside, self.assertRaises(ab.AbError) as raised:
            ab.resolve(outside, "HEAD")
        self.assertIn("not a git checkout", str(raised.exception))

    def test_the_base_worktree_is_made_under_build_ab_and_removed(self):
        commit = ab.resolve(self.tmp, "HEAD")
        self.assertEqual(commit, self.git("rev-parse", "HEAD"))
        with ab.base_tree(self.tmp, commit) as tree:
            self.assertEqual(tree, os.path.join(self.tmp, "build", "ab", commit[:12]))
            self.assertEqual(self.git("-C", tree, "rev-parse", "HEAD"), commit)
        self.assertFalse(os.path.exists(tree))
        self.assertNotIn(tree, self.git("worktree", "list"))
        with ab.base_tree(self.tmp, commit, keep=True) as kept:
            pass
        with ab.base_tree(self.tmp, commit) as reused:  # a kept one is reused, then removed
            self.assertEqual(reused, kept)
        self.assertFalse(os.path.exists(kept))


if __name__ == "__main__":
    unittest.main()
