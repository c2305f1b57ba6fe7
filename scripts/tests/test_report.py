"""Tests of scripts/report run as a user runs it, on the checked-in fixtures: the
tables and verdicts it prints (the echo servers' included), several inputs side by side,
plots with and without matplotlib, and exit status 2 with a message for bad input or
flags."""

import json
import os
import pathlib
import re
import shutil
import tempfile
import unittest

import support
from test_goals import results_doc

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


class ReportTestCase(unittest.TestCase):
    """Runs the report once for the class on the fixtures named in `inputs`, without
    plots: self.result, and self.text, the report.md it wrote."""
    inputs = ()

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.result = support.run_script("report", *map(support.fixture, cls.inputs), "--out", cls.tmp.name,
                                        "--no-plots")
        with open(os.path.join(cls.tmp.name, "report.md"), encoding="utf-8") as f:
            cls.text = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()


class ReportOnOneFileTest(ReportTestCase):
    inputs = ("run_a.json",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.claims = claim_rows(cls.text, "## Claims from the notes: alpha")

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
        self.assertEqual(verdicts["thousands-of-threads-hit-os-limits"], "off by ×3.3 (higher)")
        self.assertEqual(verdicts["goroutine-stack-grows-to-1GB"], "not measured")

    def test_the_answer_comes_first(self):
        self.assertLess(self.text.index("## What holds here"), self.text.index("## Machine"))
        holds = claim_rows(self.text, "## What holds here")
        self.assertEqual(set(holds), set(self.claims))
        stack = holds["thread-stack-1-8MB"]
        self.assertEqual((stack["notes' figure"], stack["verdict"]), ("1–8 MB", "holds: 8.00 MiB"))
        self.assertEqual(stack["measured by (spread over repetitions)"], "memory/std_thread/n:10000 (the same in 3 runs)")
        for claim_id, detail in self.claims.items():
            self.assertTrue(holds[claim_id]["verdict"].startswith(detail["verdict"]), claim_id)

    def test_the_goals_follow_the_answer(self):
        """run_a.json predates the via: rows: every goal reads not measured, naming its row."""
        self.assertLess(self.text.index("## What holds here"), self.text.index("## The runtime's goals"))
        self.assertLess(self.text.index("## The runtime's goals"), self.text.index("## Machine"))
        goals = support.markdown_table(self.text, "## The runtime's goals")
        yield_row = row(goals, goal="`yield-quarter-of-go`")
        self.assertEqual((yield_row["over"], yield_row["bound"]),
                         ("`switch/go/procs:1/via:yield/cpus:1`", "≤ ×0.25"))
        self.assertEqual(yield_row["verdict"], "not measured: no row switch/fiber/workers:1/via:yield/cpus:1 in "
                                               "this file; no row switch/go/procs:1/via:yield/cpus:1 in this file")
        self.assertTrue(all(r["verdict"].startswith("not measured: no row ") for r in goals))
        self.assertIn("- `yield-quarter-of-go` (issue 11, ns_per_switch): ", self.text)

    def test_claim_cells(self):
        stack = self.claims["thread-stack-1-8MB"]
        self.assertEqual((stack["notes' figure"], stack["thread"], stack["fiber"], stack["goroutine"]),
                         ("1–8 MB", "8.00 MiB", "68.0 KiB", "2.78 KiB"))
        self.assertEqual(stack["peers"], "pthread 64 KiB 68.0 KiB")
        self.assertIn("memory/std_thread/n:10000 (vsz_bytes_per_task)", stack["why"])
        limits = self.claims["thousands-of-threads-hit-os-limits"]
        self.assertEqual(limits["thread"], "32,749 (bound:max_map_count)")
        self.assertIn("the OS limit max_map_count did stop it, but at 32,749", limits["why"])


class EchoReportTest(ReportTestCase):
    inputs = ("echo.json",)

    def test_servers_side_by_side_with_ratios(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        rows = support.markdown_table(self.text, "### echo: conns:1000")
        self.assertEqual([r["server"] for r in rows],
                         ["fiber workers:1", "fiber workers:2", "std_thread", "go procs:2", "epoll loops:1"])
        go = row(rows, server="go procs:2")
        self.assertEqual(go["requests/s"], "53,967/s (×1.2, ×1.0)")
        self.assertEqual(go["spread (requests/s)"], "cv 8.9% · 50,578/s–57,356/s")
        self.assertEqual((go["p50"], go["p99"], go["p99.9"]),
                         ("18.4 ms (×0.85, ×1.0)", "31.7 ms (×1.1, ×1.0)", "44.9 ms (×1.6, ×1.0)"))
        self.assertEqual(go["server RSS/conn"], "7.81 KiB (×0.63, ×1.0)")
        # RSS-only and all-in side by side: a thread's kernel stack counts in the second.
        thread = row(rows, server="std_thread")
        self.assertEqual((thread["server kernel/conn"], thread["server all-in/conn"]),
                         ("20.0 KiB (×1.0, ×1,280)", "32.4 KiB (×1.0, ×4.1)"))
        self.assertEqual(row(rows, server="fiber workers:1")["server all-in/conn"], "—")
        self.assertEqual(go["server CPU/request"], "12.9 µs (×0.57, ×1.0)")
        self.assertEqual(go["client CPU/request"], "9.24 µs (×0.61, ×1.0)")
        self.assertEqual(row(rows, server="std_thread")["requests/s"], "44,774/s (×1.0, ×0.83)")

    def test_client_saturated_rows_are_marked_and_explained(self):
        rows = support.markdown_table(self.text, "### echo: conns:100")
        servers = [r["server"] for r in rows]
        self.assertIn("epoll loops:1 †", servers)
        self.assertIn("fiber workers:1 † (1 of 2 runs)", servers)
        self.assertIn("std_thread", servers)
        section = self.text.split("### echo: conns:100")[1].split("### echo: conns:1000")[0]
        self.assertIn("† client_saturated: the load generator's threads were busy, or waiting for a CPU, "
                      "at least 90%", section)
        self.assertIn("the client's limit, not the server's", section)
        after = self.text.split("### echo: conns:1000")[1].split("### echo_max_conns")[0]
        self.assertNotIn("†", after)  # no row of C = 1000 was client-bound: no footnote

    def test_max_conns_table_shows_what_stopped_each_server(self):
        rows = support.markdown_table(self.text, "### echo_max_conns")
        go = row(rows, server="go procs:2")
        self.assertEqual((go["max_conns"], go["stopped by"], go["server RSS/conn"], go["time"]),
                         ("19,968 (×1.0, ×1.0)", "nofile (20,000)", "7.38 KiB (×0.59, ×1.0)", "7.63 s"))
        self.assertEqual(len(rows), 5)

    def test_echo_is_not_repeated_in_the_per_counter_tables(self):
        self.assertNotIn("### echo: requests_per_second", self.text)
        self.assertIn("No runs of these workloads; the echo servers are below.", self.text)

    def test_server_claims_are_judged(self):
        claims = claim_rows(self.text, "## Claims from the notes: vm")
        self.assertEqual(claims["million-connections-goroutine-each"]["verdict"], "not measured")
        self.assertIn("not reached here: bound by nofile=20,000",
                      claims["million-connections-goroutine-each"]["why"])
        self.assertEqual(claims["million-connections-goroutine-each"]["peers"], "epoll 19,968 (bound:nofile)")
        self.assertEqual(claims["blocked-goroutine-parked"]["verdict"], "holds")
        self.assertEqual(claims["thread-per-connection-hits-os-limits"]["verdict"], "does not hold here")

    def test_a_file_without_echo_has_no_echo_section(self):
        run = support.run_script("report", support.fixture("run_a.json"), "--out", self.tmp.name, "--no-plots")
        self.assertNotIn("## Echo servers", run.stdout)
        claims = claim_rows(run.stdout, "## Claims from the notes: alpha")
        self.assertEqual(claims["million-connections-2GB"]["verdict"], "not measured")

    def test_two_files_give_a_row_per_server_and_file(self):
        run = support.run_script("report", support.fixture("echo.json"), support.fixture("run_a.json"),
                                 "--out", self.tmp.name, "--no-plots")
        rows = support.markdown_table(run.stdout, "### echo: conns:1000")
        self.assertEqual(row(rows, server="go procs:2 · vm · echo.json")["requests/s"], "53,967/s (×1.2, ×1.0)")
        self.assertIn("### create: ns_per_task (lower is better)", run.stdout)


class EchoOpenLoopReportTest(ReportTestCase):
    """The open loop's tables, on a real run (closed loop at C = 1,000 and an open loop at
    20,000 requests/s, every server, on a 2-CPU VM under a load of about 15: most rows
    are marked, which is what they show)."""
    inputs = ("echo_open_loop.json",)
    HEADING = "### echo_open_loop: conns:1000 rate:20000"

    def test_latency_at_the_offered_rate_beside_the_closed_loop(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        rows = support.markdown_table(self.text, self.HEADING)
        self.assertEqual(len(rows), 5)
        epoll = row(rows, server="epoll loops:1 †")
        self.assertEqual((epoll["offered"], epoll["achieved"]), ("20,000/s", "16,148/s"))
        # 20,000 over the closed loop's median of 17,602/s.
        self.assertEqual(epoll["of closed-loop capacity"], "114%")
        self.assertEqual((epoll["p50"], epoll["p99"], epoll["max"]),
                         ("163 ms (×0.56, ×0.32)", "345 ms (×0.87, ×0.41)", "396 ms (×0.98, ×0.45)"))
        self.assertEqual(epoll["spread (p99)"], "cv 17.5% · 299 ms–422 ms")
        closed = row(support.markdown_table(self.text, "### echo: conns:1000"), server="epoll loops:1 †")
        self.assertEqual(epoll["closed-loop p50 (same C)"], closed["p50"])

    def test_open_loop_follows_the_closed_loop_and_is_left_out_of_the_counter_tables(self):
        self.assertLess(self.text.index("### echo: conns:1000"), self.text.index(self.HEADING))
        self.assertNotIn("### echo_open_loop: ns_p50", self.text)

    def test_a_server_short_of_the_rate_is_marked_and_explained(self):
        servers = [r["server"] for r in support.markdown_table(self.text, self.HEADING)]
        self.assertIn("fiber workers:1 ‡ (2 of 3 runs)", servers)
        section = self.text.split(self.HEADING)[1].split("## Claims")[0]
        self.assertIn("‡ short_of_offered_rate: the server answered less than 95% of the offered rate", section)
        self.assertIn("† client_saturated", section)
        closed = self.text.split("### echo: conns:1000")[1].split(self.HEADING)[0]
        self.assertNotIn("‡", closed)


class ReportOnSeveralFilesTest(ReportTestCase):
    inputs = ("run_a.json", "partial.json")

    def test_columns_are_labelled_by_host_and_file(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        rows = support.markdown_table(self.text, CREATE)
        go = row(rows, case="mode:sequential n:10000", runtime="go procs:1")
        self.assertEqual(go["median · alpha · run_a.json"], "354 ns")
        self.assertEqual(go["median · beta · partial.json"], "—")
        fiber = row(rows, case="mode:sequential n:10000", runtime="fiber workers:1")
        self.assertEqual(fiber["median · beta · partial.json"], "256 ns")
        self.assertEqual(fiber["× go · beta · partial.json"], "—")
        self.assertEqual(fiber["beta · partial.json / alpha · run_a.json"],
                         f"×{256 / float(fiber['median · alpha · run_a.json'].split()[0]):.1f}")
        self.assertEqual(go["beta · partial.json / alpha · run_a.json"], "—")

    def test_the_answer_has_a_verdict_column_per_file(self):
        holds = claim_rows(self.text, "## What holds here")
        stack = holds["thread-stack-1-8MB"]
        self.assertEqual(stack["verdict · alpha · run_a.json"], "holds: 8.00 MiB")
        self.assertEqual(holds["goroutine-stack-2KB"]["verdict · beta · partial.json"], "not measured")
        # Both files measured thread creation, at 14.9 and 14.5 µs: how far apart they lie.
        between = holds["thread-create-1ms"]["between files"]
        self.assertRegex(between, r"^sequential create: [\d.]+ µs–[\d.]+ µs \(×1\.\d\)$")
        self.assertEqual(holds["goroutine-stack-2KB"]["between files"], "—")

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

    def test_each_file_has_its_goals(self):
        for label in ("alpha · run_a.json", "beta · partial.json"):
            goals = support.markdown_table(self.text, f"### goals: {label}")
            self.assertEqual(row(goals, goal="`yield-quarter-of-go`")["bound"], "≤ ×0.25")


CLAIMS_BETA_ALONE = "## Claims from the notes: beta"
YIELD_ROW, YIELD_GO = "switch/fiber/workers:1/via:yield/cpus:1", "switch/go/procs:1/via:yield/cpus:1"


class ReportGoalsTest(support.ScratchTestCase):
    """The goals section on a file with the rows of some goals: each verdict, the two
    medians with their ranges, the ratio's best and worst, the bound."""

    def report(self, goals_text, *flags):
        with open(support.fixture("run_a.json"), encoding="utf-8") as f:
            context = json.load(f)["context"]
        doc = results_doc({YIELD_ROW: {"ns_per_switch": [19, 20, 21]}, YIELD_GO: {"ns_per_switch": [60, 80, 100]},
                           "memory/fiber/workers:1/n:1000000": {"total_bytes_per_task": [4300, 4310, 4320]}})
        doc["context"] = context
        run = support.run_script("report", self.write("run.json", json.dumps(doc)), "--out", self.tmp, "--no-plots",
                                 "--goals", self.write("goals.json", goals_text), *flags)
        return run

    def goals(self, *goal_list):
        return json.dumps({"goals": [{"id": goal_id, "source": "test", "goal": goal_id, "counter": counter,
                                      "row": row_name, "at_most": at_most} | extra
                                     for goal_id, counter, row_name, at_most, extra in goal_list]})

    def test_met_not_met_and_not_measured(self):
        yield_goal = ("ns_per_switch", YIELD_ROW)
        run = self.report(self.goals(
            ("yield-quarter", *yield_goal, 0.26, {"over": YIELD_GO}),
            ("yield-fifth", *yield_goal, 0.2, {"over": YIELD_GO}),
            ("yield-two-fifths", *yield_goal, 0.4, {"over": YIELD_GO}),
            ("parked", "total_bytes_per_task", "memory/fiber/workers:{W}/n:1000000", 4403.2,
             {"for": {"W": ["1", "2"]}})), "--json", os.path.join(self.tmp, "verdicts.json"))
        self.assertEqual(run.returncode, 0, run.stderr)
        goals = support.markdown_table(run.stdout, "## The runtime's goals")
        self.assertEqual([(r["goal"], r["verdict"]) for r in goals], [
            ("`yield-quarter`", "met, not at the worst repetition"), ("`yield-fifth`", "not met"),
            ("`yield-two-fifths`", "met"), ("`parked`", "met"),
            ("`parked`", "not measured: no row memory/fiber/workers:2/n:1000000 in this file")])
        quarter = goals[0]
        self.assertEqual([quarter[k] for k in ("row's median [range]", "over's median [range]", "judged",
                                               "best–worst", "bound")],
                         ["20.0 ns [19.0 ns–21.0 ns, 3 runs]", "80.0 ns [60.0 ns–100 ns, 3 runs]", "×0.25",
                          "×0.19–×0.35", "≤ ×0.26"])
        self.assertEqual(goals[3]["judged"], "4.21 KiB")
        self.assertEqual((goals[3]["over"], goals[4]["row's median [range]"]), ("—", "—"))
        with open(os.path.join(self.tmp, "verdicts.json"), encoding="utf-8") as f:
            recorded = json.load(f)["goals"]
        self.assertEqual([(g["id"], g["verdict"]) for g in recorded][:2],
                         [("yield-quarter", "met, not at the worst repetition"), ("yield-fifth", "not met")])
        self.assertEqual(recorded[0]["source"], "alpha")

    def test_a_broken_goals_file_exits_2_with_a_message(self):
        run = self.report(self.goals(("yield", "ns_per_switch", "switch/fiber/workers:{W}/via:yield/cpus:1", 0.25, {})))
        self.assertEqual(run.returncode, 2)
        self.assertIn("report: error: ", run.stderr)
        self.assertIn("goal yield: unknown row pattern field {W}", run.stderr)
        self.assertNotIn("Traceback", run.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "report.md")))


class ReportFilesAndErrorsTest(support.ScratchTestCase):
    def test_verdicts_as_json_read_back(self):
        out = os.path.join(self.tmp, "verdicts.json")
        run = support.run_script("report", support.fixture("run_a.json"), support.fixture("partial.json"),
                                 "--out", self.tmp, "--no-plots", "--json", out)
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(out, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual((doc["format"], doc["version"]), ("greenbench-verdicts", 1))
        self.assertEqual([s["label"] for s in doc["sources"]], ["alpha · run_a.json", "beta · partial.json"])
        claims = {c["id"]: c for c in doc["claims"]}
        with open(os.path.join(support.SCRIPTS, "claims.json"), encoding="utf-8") as f:
            self.assertEqual(set(claims), {c["id"] for c in json.load(f)["claims"]})
        self.assertEqual([(j["source"], j["verdict"]) for j in claims["goroutine-stack-2KB"]["judged"]],
                         [("alpha · run_a.json", "holds"), ("beta · partial.json", "not measured")])
        stack = claims["thread-stack-1-8MB"]["judged"]
        judged = stack[0]["definitions"][0]["judged"]["thread"]
        self.assertEqual((judged["run"], judged["unit"], judged["counters"]),
                         ("memory/std_thread/n:10000", "bytes", ["vsz_bytes_per_task"]))
        self.assertEqual(judged["value"], (8 << 20) + 4096)  # the stack and its guard page
        create = claims["thread-create-1ms"]["judged"][0]["definitions"]
        self.assertEqual([d["definition"] for d in create], ["sequential create", "batch create"])

    def test_default_output_is_a_folder_named_after_the_first_input(self):
        """results/X.json -> results/X/report.md: a report already beside the input (the
        committed reference's, results/report.md) is left alone."""
        copy = shutil.copy(support.fixture("partial.json"), self.tmp)
        reference = self.write("report.md", "the reference report\n")
        run = support.run_script("report", copy, support.fixture("run_a.json"), "--no-plots")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "partial", "report.md")))
        with open(reference, encoding="utf-8") as f:
            self.assertEqual(f.read(), "the reference report\n")

    def test_a_quick_run_names_the_claims_it_leaves_unjudged(self):
        run = support.run_script("report", support.fixture("partial.json"), "--out", self.tmp, "--no-plots")
        self.assertEqual(run.returncode, 0, run.stderr)
        unjudged = [r["claim"].rsplit("`", 2)[1] for r in support.markdown_table(run.stdout, CLAIMS_BETA_ALONE)
                    if r["verdict"] == "not measured"]
        line = next(l for l in run.stdout.splitlines() if l.startswith("The quick profile leaves"))
        self.assertTrue(line.startswith(f"The quick profile leaves {len(unjudged)} of "), line)
        self.assertEqual(re.findall(r"`([A-Za-z0-9-]+)`", line), unjudged)
        goals = support.markdown_table(run.stdout, "## The runtime's goals")
        unmeasured = [r["goal"] for r in goals if r["verdict"].startswith("not measured")]
        self.assertIn(f"The quick profile leaves {len(unmeasured)} of {len(goals)} goal rows not measured "
                      f"({', '.join(dict.fromkeys(unmeasured))}); `scripts/bench_all --profile full` runs every row "
                      "a goal names.", run.stdout)

    def test_a_full_run_has_no_such_line(self):
        with open(support.fixture("partial.json"), encoding="utf-8") as f:
            doc = json.load(f)
        doc["context"]["greenbench"]["profile"] = "full"
        run = support.run_script("report", self.write("full.json", json.dumps(doc)), "--out", self.tmp,
                                 "--no-plots")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertNotIn("The quick profile", run.stdout)

    def test_the_reference_folder_is_written_when_named(self):
        copy = shutil.copy(support.fixture("partial.json"), self.tmp)
        run = support.run_script("report", copy, "--out", self.tmp, "--no-plots")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "report.md")))

    def test_a_figure_within_noise_of_zero_gets_no_cv_and_no_ratio(self):
        # A system-wide delta (kernel memory) whose repetitions straddle zero: the report
        # must not print a negative cv or a ratio of one noise figure over another.
        with open(support.fixture("run_a.json"), encoding="utf-8") as f:
            doc = json.load(f)
        run = "memory/fiber/workers:1/n:1000"
        doc["benchmarks"] = [e for e in doc["benchmarks"] if not (e["run_name"] == run and e["run_type"] == "aggregate")]
        straddling = iter([-406, 270, 135])
        for entry in doc["benchmarks"]:
            if entry["run_name"] == run:
                entry["kernel_bytes_per_task"] = next(straddling)
        path = self.write("noisy.json", json.dumps(doc))
        run_report = support.run_script("report", path, "--out", self.tmp, "--no-plots")
        self.assertEqual(run_report.returncode, 0, run_report.stderr)
        with open(os.path.join(self.tmp, "report.md"), encoding="utf-8") as f:
            rows = support.markdown_table(f.read(), KERNEL)
        fiber = row(rows, case="n:1000", runtime="fiber workers:1")
        self.assertEqual(fiber["median"], "≈ 0 (noise; median 135 B)")
        self.assertEqual(fiber["spread"], "range -406 B–270 B")
        self.assertEqual((fiber["× std_thread"], fiber["× go"]), ("—", "—"))
        thread = row(rows, case="n:1000", runtime="std_thread")
        self.assertTrue(thread["spread"].startswith("cv "), thread)

    def test_placed_switches_are_set_against_the_threads_analog_and_no_go(self):
        # Issue 12: fibers pinned to two workers (place:cross) against threads pinned to two
        # CPUs, fibers pinned to one worker (place:same) against threads on one CPU; Go
        # cannot place goroutines, so its cpus:2 row is no ratio for them.
        with open(support.fixture("run_a.json"), encoding="utf-8") as f:
            doc = json.load(f)
        for run, ns in (("switch/std_thread/via:handoff/cpus:2", 25000), ("switch/go/procs:2/via:handoff/cpus:2", 140),
                        ("switch/fiber/workers:2/via:handoff/place:same/cpus:2", 70),
                        ("switch/fiber/workers:2/via:handoff/place:cross/cpus:2", 10000)):
            doc["benchmarks"].append({"name": run, "run_name": run, "run_type": "iteration", "repetitions": 1,
                                      "repetition_index": 0, "threads": 1, "iterations": 10, "real_time": ns * 1e5,
                                      "cpu_time": ns * 1e5, "time_unit": "ns", "ns_per_switch": ns, "switches": 100000})
        path = self.write("placed.json", json.dumps(doc))
        run_report = support.run_script("report", path, "--out", self.tmp, "--no-plots")
        self.assertEqual(run_report.returncode, 0, run_report.stderr)
        with open(os.path.join(self.tmp, "report.md"), encoding="utf-8") as f:
            rows = support.markdown_table(f.read(), "### switch: ns_per_switch (lower is better)")
        thread_one_cpu = row(rows, case="via:handoff cpus:1", runtime="std_thread")["median"]
        cross = row(rows, case="via:handoff place:cross cpus:2", runtime="fiber workers:2")
        self.assertEqual((cross["median"], cross["× std_thread"], cross["× go"]), ("10.0 µs", "×0.4", "—"))
        same = row(rows, case="via:handoff place:same cpus:2", runtime="fiber workers:2")
        self.assertEqual(same["× go"], "—")
        self.assertNotEqual(same["× std_thread"], "—", f"not set against std_thread on one CPU ({thread_one_cpu})")
        self.assertEqual(row(rows, case="via:handoff cpus:2", runtime="go procs:2")["× std_thread"], "×0.0056")

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

    def test_echo_plots(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = support.run_script("report", support.fixture("echo.json"), "--out", tmp)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertEqual(sorted(f for f in os.listdir(tmp) if f.endswith(".png")),
                             ["echo_p99.png", "echo_requests.png"])
            self.assertIn("](echo_requests.png)", run.stdout)


class ScalingSectionTest(ReportTestCase):
    """scaling.json: 2 CPUs, skynet and create batch at 1, 2 and 4 workers (4 oversubscribed)."""
    inputs = ("scaling.json",)

    def test_speedup_efficiency_and_cpu_beside_wall(self):
        self.assertIn("## Scaling with cores", self.text)
        rows = support.markdown_table(self.text, "### skynet via:join n:10000")
        fiber = row(rows, runtime="fiber", W="2")
        self.assertEqual((fiber["time per op"], fiber["speedup over W=1"], fiber["efficiency"]),
                         ("110 ns", "×1.8 (×1.7–×2.0)", "91%"))
        self.assertEqual((fiber["CPU per op"], fiber["CPUs busy"]), ("210 ns", "1.91"))
        self.assertEqual(row(rows, runtime="fiber", W="4 (oversubscribed)")["efficiency"], "50%")
        self.assertEqual(row(rows, runtime="std_thread", W="2")["speedup over W=1"], "×1.5 (×1.4–×1.6)")
        self.assertEqual(row(rows, runtime="go", W="2")["CPUs busy"], "2.00")

    def test_a_group_without_one_worker_has_no_speedup(self):
        rows = support.markdown_table(self.text, "### create mode:batch n:10000")
        self.assertEqual([(r["W"], r["speedup over W=1"]) for r in rows], [("2", "—"), ("4 (oversubscribed)", "—")])

    def test_files_without_scaling_entries_have_no_section(self):
        run = support.run_script("report", support.fixture("run_a.json"), "--out", self.tmp.name, "--no-plots")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertNotIn("## Scaling with cores", run.stdout)


if __name__ == "__main__":
    unittest.main()


class ReportTradeOffTest(ReportTestCase):
    """The 'Where threads win' section and the claims that read the fairness and blocking
    rows (fixture tradeoff.json: hand-made figures of the shape a run writes)."""
    inputs = ("tradeoff.json",)

    def test_fairness_table_has_a_row_per_run(self):
        rows = support.markdown_table(self.text, "### fairness")
        self.assertEqual(len(rows), 4)
        spin = row(rows, runtime="fiber workers:2", **{"hogs compute": "spin"})
        self.assertEqual((spin["lateness p50"], spin["ticks missed"]), ("199 ms", "199"))
        self.assertEqual(row(rows, runtime="fiber workers:2", **{"hogs compute": "maybe_yield"})["p99"], "1.02 ms")
        self.assertEqual(row(rows, runtime="go procs:2")["hogs' work/s"], "1,500,000/s")

    def test_blocking_table_has_a_column_per_blocker_count(self):
        rows = support.markdown_table(self.text, "### blocking, call:nanosleep")
        direct = row(rows, runtime="fiber workers:2", via="direct")
        self.assertEqual([direct[f"round trips/s, {b} blockers"] for b in (0, 2, 4)],
                         ["9,090,000/s", "2,020/s", "909/s"])
        self.assertEqual(direct["p99, most blockers"], "2.21 ms")
        self.assertEqual(row(rows, runtime="fiber workers:2", via="blocking")["round trips/s, 0 blockers"], "—")

    def test_stack_table_has_before_and_after_for_each_runtime(self):
        rows = support.markdown_table(self.text, "### stack memory after a deep call returns")
        self.assertEqual(len(rows), 2)
        fiber = row(rows, runtime="fiber workers:1")
        self.assertEqual((fiber["recursed"], fiber["tasks"], fiber["kept"], fiber["GCs run"], fiber["after one GC: all-in"]),
                         ("64KiB", "1000", "100%", "—", "—"))
        go = row(rows, runtime="go procs:2")
        self.assertEqual((go["right after: all-in"], go["settled: all-in"], go["kept"], go["GCs run"]),
                         ("70.8 KiB", "25.5 KiB", "36%", "6"))

    def test_claims_read_the_rows(self):
        claims = claim_rows(self.text, "## Claims from the notes: gamma")
        self.assertTrue(claims["goroutine-stack-shrinks"]["verdict"].startswith("depends on the definition"),
                        claims["goroutine-stack-shrinks"]["verdict"])
        self.assertTrue(claims["blocked-goroutine-others-run"]["verdict"].startswith("holds"))
        self.assertTrue(claims["goroutines-share-the-cpu"]["verdict"].startswith("holds"))

    def test_a_file_without_them_has_no_section(self):
        self.assertIn("## Where threads win", self.text)
        run = support.run_script("report", support.fixture("run_a.json"), "--out", self.tmp.name, "--no-plots")
        self.assertNotIn("## Where threads win", run.stdout)
