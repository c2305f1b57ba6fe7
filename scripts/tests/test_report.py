"""Tests of scripts/report run as a user runs it, on the checked-in fixtures: the
tables and verdicts it prints, several inputs side by side, plots with and without
matplotlib, and exit status 2 with a message for bad input or flags."""

import os
import pathlib
import re
import shutil
import tempfile
import unittest

import support

CREATE = "### create: ns_per_task (lower is better)"
KERNEL = "### memory: kernel_bytes_per_task (lower is better)"


def claim_rows(text, heading):
    """{claim id: row} of the claims table under heading."""
    return {re.search(r"`([^`]+)`$", row["claim"]).group(1): row
            for row in support.markdown_table(text, heading)}


def row(rows, **match):
    """The one row whose cells match."""
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


class ReportOnOneFileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.result = support.run_script("report", support.fixture("run_a.json"), "--out", cls.tmp.name,
                                     "--no-plots")
        with open(os.path.join(cls.tmp.name, "report.md"), encoding="utf-8") as f:
            cls.text = f.read()
        cls.claims = claim_rows(cls.text, "## Claims from the notes: alpha")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_writes_and_prints_the_same_report(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertEqual(self.result.stdout, self.text)
        self.assertIn("Plots skipped: --no-plots.", self.text)

    def test_machine_section(self):
        machine = {r[""]: r["alpha"] for r in support.markdown_table(self.text, "## Machine")}
        self.assertEqual(machine["git commit"], "4f2a9c1")
        self.assertTrue(machine["governor"].startswith("unknown"))
        self.assertIn("max_map_count 65,530", machine["limits"])
        self.assertEqual(machine["benchmark library"], "debug (Debian builds it without NDEBUG)")

    def test_workload_table_cells(self):
        rows = support.markdown_table(self.text, CREATE)
        fiber = row(rows, case="mode:sequential n:10000", runtime="fiber workers:1")
        self.assertEqual(fiber["median"], "252 ns")
        self.assertEqual(fiber["spread"], "cv 2.8% · 242 ns–262 ns")
        self.assertEqual(fiber["× std_thread"], "×0.017")
        self.assertEqual(fiber["× go"], "×0.71")
        thread = row(rows, case="mode:sequential n:10000", runtime="std_thread")
        self.assertEqual((thread["median"], thread["× std_thread"], thread["× go"]), ("15.1 µs", "×1.0", "×43"))

    def test_nan_and_single_runs(self):
        go = row(support.markdown_table(self.text, KERNEL), case="n:1000", runtime="go procs:1")
        self.assertEqual((go["median"], go["spread"], go["× std_thread"]), ("NaN", "—", "—"))
        maximum = support.markdown_table(self.text, "### max_count: max_tasks (higher is better)")
        thread = row(maximum, runtime="std_thread")
        self.assertEqual((thread["median"], thread["spread"]), ("32,749 (bound:max_map_count)", "1 run"))

    def test_claim_verdicts(self):
        verdicts = {claim_id: r["verdict"] for claim_id, r in self.claims.items()}
        self.assertEqual(verdicts["thread-stack-1-8MB"], "holds")
        self.assertEqual(verdicts["thread-stack-512KB-1MB"], "off by ×8.0 (higher)")
        self.assertEqual(verdicts["thread-stack-2MB"], "off by ×4.0 (higher)")
        self.assertEqual(verdicts["thread-stack-is-ram"], "off by ×35 (lower)")
        self.assertEqual(verdicts["goroutine-stack-2KB"], "holds")
        self.assertEqual(verdicts["thread-create-1ms"], "off by ×66 (lower)")
        self.assertEqual(verdicts["create-1000x"], "off by ×23 (lower)")
        self.assertEqual(verdicts["thread-switch-1-10us"], "holds")
        self.assertEqual(verdicts["thread-switch-1-2us"], "off by ×1.3 (higher)")
        self.assertEqual(verdicts["goroutine-switch-200ns"], "holds")
        self.assertEqual(verdicts["max-threads-8GB"], "off by ×36 (higher)")
        self.assertEqual(verdicts["million-threads-2TB"], "off by ×70 (lower)")
        self.assertEqual(verdicts["millions-of-goroutines"], "holds")
        self.assertEqual(verdicts["thousands-of-threads-hit-os-limits"], "does not hold here")
        self.assertEqual(verdicts["goroutine-stack-grows-to-1GB"], "not measured")

    def test_claim_cells(self):
        stack = self.claims["thread-stack-1-8MB"]
        self.assertEqual((stack["notes' figure"], stack["thread"], stack["fiber"], stack["goroutine"]),
                         ("1–8 MB", "8.00 MiB", "68.0 KiB", "2.78 KiB"))
        self.assertEqual(stack["peers"], "pthread 64 KiB 68.0 KiB")
        self.assertIn("memory/std_thread/n:10000 (vsz_bytes_per_task)", stack["why"])
        limits = self.claims["thousands-of-threads-hit-os-limits"]
        self.assertEqual(limits["thread"], "32,749 (bound:max_map_count)")
        self.assertIn("before bound:max_map_count stopped it", limits["why"])


class ReportOnSeveralFilesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.result = support.run_script("report", support.fixture("run_a.json"), support.fixture("partial.json"),
                                     "--out", cls.tmp.name, "--no-plots")
        cls.text = cls.result.stdout

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_columns_are_labelled_by_host_and_file(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        rows = support.markdown_table(self.text, CREATE)
        go = row(rows, case="mode:sequential n:10000", runtime="go procs:1")
        self.assertEqual(go["median · alpha · run_a.json"], "354 ns")
        self.assertEqual(go["median · beta · partial.json"], "—")
        fiber = row(rows, case="mode:sequential n:10000", runtime="fiber workers:1")
        self.assertEqual(fiber["median · beta · partial.json"], "256 ns")
        self.assertEqual(fiber["× go · beta · partial.json"], "—")

    def test_missing_workloads_read_not_measured(self):
        beta = claim_rows(self.text, "## Claims from the notes: beta · partial.json")
        for claim_id in ("goroutine-stack-2KB", "create-1000x", "thread-switch-1-10us",
                         "switch-user-mode-cheaper", "millions-of-goroutines"):
            self.assertEqual(beta[claim_id]["verdict"], "not measured", claim_id)
            self.assertEqual(beta[claim_id]["goroutine"], "—")
        self.assertIn("no run in this file measures the goroutine column (memory/go/*)",
                      beta["goroutine-stack-2KB"]["why"])
        # What beta did measure is still judged: its threads met a cgroup's pids limit.
        self.assertEqual(beta["thousands-of-threads-hit-os-limits"]["verdict"], "holds")
        self.assertEqual(beta["thread-create-1ms"]["verdict"], "off by ×67 (lower)")


class ReportFilesAndErrorsTest(support.ScratchTestCase):
    def test_default_output_is_next_to_the_first_input(self):
        copy = shutil.copy(support.fixture("partial.json"), self.tmp)
        run = support.run_script("report", copy, "--no-plots")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "report.md")))

    def test_bad_json_exits_2_with_a_message(self):
        path = self.write("cut.json", '{"context": {}, "benchmarks": [{"name": ')
        run = support.run_script("report", path, "--out", self.tmp)
        self.assertEqual(run.returncode, 2)
        self.assertIn(f"report: error: {path}: not valid JSON", run.stderr)
        self.assertNotIn("Traceback", run.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "report.md")))

    def test_foreign_json_exits_2_with_a_message(self):
        path = self.write("package.json", '{"name": "left-pad", "version": "1.3.0"}')
        run = support.run_script("report", support.fixture("run_a.json"), path, "--out", self.tmp)
        self.assertEqual(run.returncode, 2)
        self.assertIn('not a results file: no "context" key', run.stderr)

    def test_bad_flags_exit_2(self):
        self.assertEqual(support.run_script("report").returncode, 2)
        self.assertEqual(support.run_script("report", support.fixture("run_a.json"), "--bogus").returncode, 2)

    def test_without_matplotlib_the_report_says_plots_were_skipped(self):
        fake = os.path.join(self.tmp, "fake", "matplotlib")
        os.makedirs(fake)
        self.write(os.path.join("fake", "matplotlib", "__init__.py"), "raise ImportError('no matplotlib here')\n")
        env = dict(os.environ, PYTHONPATH=os.path.join(self.tmp, "fake"))
        run = support.run_script("report", support.fixture("run_a.json"), "--out", self.tmp, env=env)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("Plots skipped: matplotlib is not installed", run.stdout)
        self.assertFalse([f for f in os.listdir(self.tmp) if f.endswith(".png")])


@unittest.skipIf(__import__("greenbench.plots").plots.missing_reason(), "matplotlib is not installed")
class PlotsTest(unittest.TestCase):
    def test_plots_are_drawn_and_reproducible(self):
        images = []
        for _ in range(2):
            with tempfile.TemporaryDirectory() as tmp:
                run = support.run_script("report", support.fixture("run_a.json"), "--out", tmp)
                self.assertEqual(run.returncode, 0, run.stderr)
                names = sorted(f for f in os.listdir(tmp) if f.endswith(".png"))
                self.assertEqual(names, ["create.png", "max_count.png", "memory.png", "switch.png"])
                for name in names:
                    self.assertIn(f"]({name})", run.stdout)
                images.append({name: pathlib.Path(tmp, name).read_bytes() for name in names})
        self.assertEqual(images[0], images[1])
        self.assertNotIn(b"Software", images[0]["create.png"])


if __name__ == "__main__":
    unittest.main()
