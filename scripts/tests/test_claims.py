"""Tests of scripts/claims.json and greenbench/claims.py: the file is well formed and
names only counters the format has; verdicts follow the rules (echo's included: a count
stopped by nofile, a client-bound row, ratios at a common size), and a claim without its
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
    "page_table_bytes_per_task", "kernel_stack_bytes_per_task", "total_bytes_per_task",
    "max_tasks", "seconds", "bytes_per_task", "tasks_in_8GiB", "map_count", "ms_wall", "sum",
    "speedup", "requests_per_second", "ns_p50", "ns_p99", "ns_p999", "server_rss_bytes_per_conn",
    "server_cpu_ns_per_request", "client_cpu_ns_per_request", "requests", "conns", "nofile_limit",
    "request_bytes", "client_threads", "max_conns", "max_stack_bytes", "largest_stack_bytes",
    "frame_bytes_reached", "heap_alloc_bytes_per_task", "stack_inuse_bytes_per_task",
    "runtime_stack_bytes_per_thread", "rss_bytes_per_thread", "threads", "voluntary_switches_per_op",
    "involuntary_switches_per_op", "minor_faults_per_op", "gc_cycles_per_run", "gc_pause_ns_per_run",
    "lateness_p50_us", "lateness_p99_us", "lateness_max_us", "ticks", "ticks_missed", "ticks_expected",
    "hog_work_per_second", "round_trips_per_second", "round_trip_p50_us", "round_trip_p99_us",
    "round_trip_max_us", "blocking_calls_per_second", "total_bytes_per_task_settled",
    "total_bytes_per_task_after_1gc", "stack_inuse_bytes_per_task_settled", "server_kernel_bytes_per_conn",
    "server_total_bytes_per_conn"}
ECHO_CLAIMS = ("million-connections-goroutine-each", "million-connections-2GB",
               "million-thread-connections-2TB", "blocked-goroutine-parked",
               "thread-per-connection-slows-at-thousands", "thread-per-connection-hits-os-limits")


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
            self.assertIn(claim["figure"]["unit"], ("bytes", "ns", "us", "count", "x"))
            on = claim["judge"]["on"]
            for column in (on if isinstance(on, list) else [on]):
                if claim["measures"]:
                    self.assertIn(column, claim["measures"], claim["id"])
            specs = [spec for _, measures in claims.definitions(claim) for spec in measures.values()]
            for definition in claim.get("definitions", []):
                self.assertLessEqual(set(definition.get("measures", {})), set(claim["measures"]), claim["id"])
            for spec in specs:
                named = spec["counters"] + spec.get("and_if_measured", [])
                self.assertLessEqual(set(named), FORMAT_COUNTERS, claim["id"])
                self.assertTrue(re.match(r"^(create|switch|memory|max_count|stack_max|thread_stack|skynet|fairness|blocking|gil|echo|echo_max_conns|echo\*)/",
                                         spec["entries"]), spec["entries"])
            extrapolate = claim["judge"].get("extrapolate") or []
            for spec in extrapolate if isinstance(extrapolate, list) else [extrapolate]:
                self.assertIn(spec["counter"], FORMAT_COUNTERS)

    def test_every_note_is_cited(self):
        cited = {s[:3] for c in self.doc["claims"] for s in c["sources"]}
        self.assertEqual(cited, {"000", "001", "002", "003", "004"})

    def test_nothing_measured_means_not_measured(self):
        judged = claims.judge_all(self.doc, {})
        self.assertEqual({j.verdict for j in judged}, {claims.NOT_MEASURED})
        self.assertTrue(all(j.why for j in judged))


class JudgeTestCase(unittest.TestCase):
    """A test case that judges claims.json's claims against runs."""

    def setUp(self):
        self.doc = claims.load_claims(CLAIMS)

    def judge(self, claim_id, found):
        return next(j for j in claims.judge_all(self.doc, found) if j.claim["id"] == claim_id)

    def assertJudged(self, claim_id, found, verdict, **runs):
        """The claim's verdict on found is verdict, each column of runs measured by that run."""
        judged = self.judge(claim_id, found)
        self.assertEqual({column: judged.measured[column].run_name for column in runs}, runs)
        self.assertEqual(judged.verdict, verdict)


class VerdictTest(JudgeTestCase):

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
        self.assertJudged("goroutine-create-1us", found, "off by ×2.5 (lower)",
                          goroutine="create/go/procs:4/mode:sequential/n:10000")

    def test_ratio_needs_both_sides(self):
        thread = ("create/std_thread/mode:sequential/n:1000", {"ns_per_task": 20000}, "")
        go = ("create/go/procs:1/mode:sequential/n:1000", {"ns_per_task": 400}, "")
        self.assertEqual(self.judge("create-1000x", summaries(thread)).verdict, "not measured")
        self.assertEqual(self.judge("create-1000x", summaries(thread, go)).verdict, "off by ×20 (lower)")

    def test_nan_is_not_measured(self):
        found = summaries(("memory/go/procs:1/n:1000", {"rss_bytes_per_task": float("nan")}, ""))
        self.assertEqual(self.judge("goroutine-stack-2KB", found).verdict, "not measured")

    def test_deep_stacks_count_only_where_a_claim_names_them(self):
        # memory/go/* means goroutines as they start; the deep run (16 KiB of frames, at the
        # same n) answers the running-stack claim only.
        found = summaries(("memory/go/procs:2/n:10000", {"rss_bytes_per_task": 2700}, ""),
                          ("memory/go/procs:2/depth:16KiB/n:10000", {"rss_bytes_per_task": 22000}, ""),
                          ("memory/std_thread/depth:16KiB/n:10000", {"rss_bytes_per_task": 25000}, ""))
        self.assertJudged("goroutine-stack-2KB", found, "holds", goroutine="memory/go/procs:2/n:10000")
        self.assertJudged("running-goroutine-stack-2-32KB", found, "holds",
                          goroutine="memory/go/procs:2/depth:16KiB/n:10000",
                          thread="memory/std_thread/depth:16KiB/n:10000")
        self.assertEqual(self.judge("thread-stack-is-ram", found).verdict, "not measured")

    def test_stack_shrink_is_judged_on_go_before_and_after_each_definition(self):
        # Go's all-in memory after one collection is above what it was (the shrunk copy
        # sits beside the freed stack); after collections until settled and 2 s it is a
        # third; StackInuse went from 128 KiB to 4 KiB. Each definition is named.
        # (The bound is ×1.1: a runtime that keeps its stacks reads the same twice.)
        go = ("memory/go/procs:2/recursed:64KiB/n:1000",
              {"total_bytes_per_task": 72000, "total_bytes_per_task_after_1gc": 77000,
               "total_bytes_per_task_settled": 24000, "stack_inuse_bytes_per_task": 131072,
               "stack_inuse_bytes_per_task_settled": 4096}, "")
        fiber = ("memory/fiber/workers:1/recursed:64KiB/n:1000",
                 {"total_bytes_per_task": 74000, "total_bytes_per_task_settled": 74000}, "")
        plain = ("memory/go/procs:2/n:1000", {"total_bytes_per_task": 2700, "rss_bytes_per_task": 2600}, "")
        judged = self.judge("goroutine-stack-shrinks", summaries(go, fiber, plain))
        self.assertEqual(judged.measured["fiber"].run_name, fiber[0])
        self.assertEqual(judged.measured["goroutine"].run_name, go[0])
        by_name = {name: j for name, j in judged.definitions}
        self.assertEqual(by_name["all-in memory, collections until the stacks settled, then 2 s"].verdict, "holds")
        self.assertEqual(by_name["all-in memory, one collection"].verdict, "off by ×1.2 (lower)")
        self.assertEqual(by_name["stack in use (MemStats.StackInuse), collections until settled"].verdict, "holds")
        self.assertTrue(judged.verdict.startswith("depends on the definition: holds for all-in memory, "
                                                  "collections until the stacks settled, then 2 s (×3.0)"),
                        judged.verdict)
        self.assertIn("off by ×1.2 (lower) for all-in memory, one collection (×0.94)", judged.verdict)

    def test_stack_shrink_does_not_hold_where_go_kept_its_stacks(self):
        go = ("memory/go/procs:2/recursed:64KiB/n:1000",
              {"total_bytes_per_task": 72000, "total_bytes_per_task_after_1gc": 72000,
               "total_bytes_per_task_settled": 70000, "stack_inuse_bytes_per_task": 131072,
               "stack_inuse_bytes_per_task_settled": 131072}, "")
        judged = self.judge("goroutine-stack-shrinks", summaries(go))
        self.assertTrue(judged.verdict.startswith("off by"), judged.verdict)

    def test_recursed_runs_answer_only_the_claims_that_name_them(self):
        # A run whose tasks went deep and returned is not a goroutine as it starts.
        found = summaries(("memory/go/procs:2/recursed:64KiB/n:10000", {"rss_bytes_per_task": 70000}, ""),
                          ("memory/go/procs:2/n:1000", {"rss_bytes_per_task": 2700}, ""))
        self.assertJudged("goroutine-stack-2KB", found, "holds", goroutine="memory/go/procs:2/n:1000")
        self.assertEqual(self.judge("goroutine-stack-shrinks", summaries(
            ("memory/go/procs:2/n:1000", {"total_bytes_per_task": 2700}, ""))).verdict, "not measured")

    def test_a_control_run_with_the_collector_off_answers_no_claim(self):
        found = summaries(("create/go/procs:1/mode:sequential/n:10000", {"ns_per_task": 600}, ""),
                          ("create/go/procs:1/gogc:off/mode:sequential/n:10000", {"ns_per_task": 300}, ""))
        self.assertJudged("goroutine-create-1us", found, "holds",
                          goroutine="create/go/procs:1/mode:sequential/n:10000")

    def test_the_stack_limit_is_judged_and_the_largest_stack_stated(self):
        # The runtime's limit is 1,000,000,000 bytes (the claim's 1 GB), but stacks double:
        # the largest a goroutine gets is 512 MiB, which the reason says beside the verdict.
        found = summaries(("stack_max/go/procs:1", {"max_stack_bytes": 1e9, "largest_stack_bytes": 512 << 20,
                                                     "frame_bytes_reached": 464 << 20}, "bound:go_max_stack"))
        self.assertJudged("goroutine-stack-grows-to-1GB", found, "holds", goroutine="stack_max/go/procs:1")
        self.assertIn("(max_stack_bytes), within 1 GB; the largest stack a goroutine actually had: 512 MiB",
                      self.judge("goroutine-stack-grows-to-1GB", found).why)

    def test_a_count_in_8GiB_states_the_count_reached(self):
        found = summaries(("max_count/std_thread", {"tasks_in_8GiB": 235889, "max_tasks": 32452}, "bound:pid_max"))
        judged = self.judge("max-threads-8GB", found)
        self.assertEqual(judged.verdict, "off by ×29 (higher)")
        self.assertIn("threads actually created before that bound: 32,452", judged.why)

    def test_every_definition_is_judged_and_a_disagreement_named(self):
        found = summaries(("create/go/procs:1/mode:sequential/n:100000", {"ns_per_task": 272}, ""),
                          ("create/go/procs:1/mode:batch/n:100000", {"ns_per_task": 742}, ""))
        judged = self.judge("goroutine-create-1us", found)
        self.assertEqual(judged.verdict, "depends on the definition: off by ×3.7 (lower) for sequential "
                         "create (272 ns); holds for batch create (742 ns)")
        self.assertEqual([j.measured["goroutine"].run_name for _, j in judged.definitions],
                         ["create/go/procs:1/mode:sequential/n:100000", "create/go/procs:1/mode:batch/n:100000"])
        self.assertIn("batch create: 742 ns from create/go/procs:1/mode:batch", judged.why)

    def test_definitions_that_agree_give_one_verdict_and_unmeasured_ones_are_named(self):
        found = summaries(("switch/go/procs:1/via:yield/cpus:1", {"ns_per_switch": 150}, ""),
                          ("switch/go/procs:1/via:handoff/cpus:1", {"ns_per_switch": 250}, ""))
        judged = self.judge("goroutine-switch-200ns", found)
        self.assertEqual(judged.verdict, "holds")
        self.assertIn("hand-off, two CPUs, placed by the runtime: no run in this file measures the goroutine column",
                      judged.why)

    def test_across_two_cpus_sets_threads_beside_fibers_pinned_to_two_workers(self):
        """Issue 12: threads pinned to two CPUs compare with the fiber pair pinned to two
        workers (place:cross), not with the pair the runtime keeps on one worker."""
        found = summaries(("switch/std_thread/via:handoff/cpus:2", {"ns_per_switch": 25500}, ""),
                          ("switch/fiber/workers:2/via:handoff/cpus:2", {"ns_per_switch": 60}, ""),
                          ("switch/fiber/workers:2/via:handoff/place:same/cpus:2", {"ns_per_switch": 70}, ""),
                          ("switch/fiber/workers:2/via:handoff/place:cross/cpus:2", {"ns_per_switch": 9000}, ""))
        judged = self.judge("thread-switch-1-10us", found)
        across = dict(judged.definitions)["hand-off, across two CPUs"]
        self.assertEqual(across.measured["thread"].run_name, "switch/std_thread/via:handoff/cpus:2")
        self.assertEqual(across.measured["fiber"].run_name, "switch/fiber/workers:2/via:handoff/place:cross/cpus:2")
        self.assertEqual(judged.verdict, "off by ×2.5 (higher)")
        self.assertIn("hand-off, across two CPUs: 25.5 µs from switch/std_thread/via:handoff/cpus:2", judged.why)
        placed = dict(self.judge("goroutine-switch-200ns", found).definitions)["hand-off, two CPUs, placed by the runtime"]
        self.assertEqual(placed.measured["fiber"].run_name, "switch/fiber/workers:2/via:handoff/cpus:2")

    def test_definitions_off_the_same_way_give_the_range_of_factors(self):
        found = summaries(("create/go/procs:1/mode:sequential/n:100000", {"ns_per_task": 272}, ""),
                          ("create/go/procs:1/mode:batch/n:100000", {"ns_per_task": 167}, ""))
        self.assertEqual(self.judge("goroutine-create-1us", found).verdict, "off by ×3.7–×6.0 (lower)")

    def test_a_strict_bound_has_no_tolerance(self):
        def switches(thread_ns):
            return summaries(("switch/std_thread/via:yield/cpus:1", {"ns_per_switch": thread_ns}, ""),
                             ("switch/go/procs:1/via:yield/cpus:1", {"ns_per_switch": 100}, ""))
        self.assertEqual(self.judge("switch-user-mode-cheaper", switches(95)).verdict, "off by ×1.1 (lower)")
        self.assertEqual(self.judge("switch-user-mode-cheaper", switches(105)).verdict, "holds")

    def test_the_reason_gives_the_spread_over_repetitions(self):
        entries = [{"name": "create/go/procs:1/mode:sequential/n:1000", "run_type": "iteration",
                    "run_name": "create/go/procs:1/mode:sequential/n:1000", "repetitions": 3,
                    "repetition_index": i, "ns_per_task": v} for i, v in enumerate((900, 1000, 1200))]
        found = results.summarize({"context": {}, "benchmarks": entries})
        self.assertIn("1.00 µs [900 ns–1.20 µs over 3 runs] from create/go/procs:1/mode:sequential/n:1000",
                      self.judge("goroutine-create-1us", found).why)

    def test_the_notes_own_method_is_a_definition_of_goroutine_memory(self):
        found = summaries(("memory/go/procs:2/n:100000", {"rss_bytes_per_task": 2713, "kernel_bytes_per_task": 27,
                                                         "heap_alloc_bytes_per_task": 547}, ""))
        self.assertEqual(self.judge("goroutine-memory-2-4KB", found).verdict,
                         "depends on the definition: holds for resident memory (2.68 KiB); "
                         "off by ×3.7 (lower) for the note's method (MemStats.Alloc) (547 B)")

    def test_kernel_switches_per_switch_may_be_zero(self):
        def switches(per_op):
            return summaries(("switch/go/procs:1/via:yield/cpus:1", {"voluntary_switches_per_op": per_op,
                                                                     "involuntary_switches_per_op": 0}, ""),
                             ("switch/std_thread/via:yield/cpus:1", {"voluntary_switches_per_op": 0,
                                                                     "involuntary_switches_per_op": 1.0}, ""))
        judged = self.judge("goroutine-switch-stays-in-user-mode", switches(0.0))
        self.assertEqual(judged.verdict, "holds")
        self.assertEqual(judged.definitions[0][1].measured["thread"].value, 1.0)
        self.assertEqual(self.judge("goroutine-switch-stays-in-user-mode", switches(0.5)).verdict,
                         "off by ×50 (higher)")

    def test_the_gil_claims(self):
        def gil(thread_speedup, process_speedup):
            return summaries(("gil/python_thread/workers:2/job:cpu", {"speedup": thread_speedup}, ""),
                             ("gil/python_process/workers:2/job:cpu", {"speedup": process_speedup}, ""))
        self.assertEqual(self.judge("python-gil-no-cpu-parallelism", gil(0.93, 1.8)).verdict, "holds")
        self.assertEqual(self.judge("python-gil-no-cpu-parallelism", gil(1.9, 1.8)).verdict,
                         "off by ×1.9 (higher)")
        self.assertEqual(self.judge("python-multiprocessing-for-cpu", gil(0.93, 1.8)).verdict, "holds")
        self.assertEqual(self.judge("python-multiprocessing-for-cpu", gil(0.93, 0.95)).verdict,
                         "off by ×1.1 (lower)")

    def test_os_limit(self):
        def threads(count, bound):
            return summaries(("max_count/std_thread", {"max_tasks": count}, f"bound:{bound}"))
        claim = "thousands-of-threads-hit-os-limits"
        self.assertEqual(self.judge(claim, threads(4090, "cgroup_pids")).verdict, "holds")
        self.assertEqual(self.judge(claim, threads(5000, "errno:EAGAIN")).verdict, "holds")
        # An OS limit stopped threads, but past the claim's count: the limit is real, the figure off.
        self.assertEqual(self.judge(claim, threads(32749, "max_map_count")).verdict, "off by ×3.3 (higher)")
        self.assertEqual(self.judge(claim, threads(32749, "memory_budget")).verdict, "does not hold here")
        self.assertEqual(self.judge(claim, threads(5000, "cap")).verdict, "not measured")

    def test_reaches(self):
        def goroutines(count, bound):
            return summaries(("max_count/go/procs:1", {"max_tasks": count}, f"bound:{bound}"))
        claim = "millions-of-goroutines"
        self.assertEqual(self.judge(claim, goroutines(2_000_000, "cap")).verdict, "holds")
        # The budget is the harness's, given by the user: what it stops is not the runtime's limit.
        self.assertEqual(self.judge(claim, goroutines(500_000, "memory_budget")).verdict, "not measured")
        self.assertEqual(self.judge(claim, goroutines(500_000, "threads_max")).verdict, "does not hold here")
        self.assertEqual(self.judge(claim, goroutines(500_000, "cap")).verdict, "not measured")


class EchoVerdictTest(JudgeTestCase):
    """The server claims, on the echo fixture (a real quick run and max-conns run on a
    2-core VM whose RLIMIT_NOFILE is 20,000) and on runs made here."""

    def test_fixture_verdicts(self):
        found = results.summarize(results.load(support.fixture("echo.json")))
        verdicts = {claim_id: self.judge(claim_id, found).verdict for claim_id in ECHO_CLAIMS}
        self.assertEqual(verdicts, {
            "million-connections-goroutine-each": "not measured",
            "million-connections-2GB": "off by ×3.7–×3.9 (higher)",
            "million-thread-connections-2TB": "off by ×63–×165 (lower)",
            "blocked-goroutine-parked": "holds",
            "thread-per-connection-slows-at-thousands": "holds",
            "thread-per-connection-hits-os-limits": "does not hold here"})

    def test_a_million_connections_stopped_by_nofile_says_so(self):
        found = results.summarize(results.load(support.fixture("echo.json")))
        why = self.judge("million-connections-goroutine-each", found).why
        self.assertIn("goroutine: not reached here: bound by nofile=20,000 (a limit of this machine's "
                      "set-up, not of the runtime) at 19,968 (echo_max_conns/go/procs:2); server memory "
                      "per connection 7.38 KiB extrapolates to 7.03 GiB for 1,000,000", why)

    def test_memory_per_connection_prefers_the_most_connections(self):
        found = results.summarize(results.load(support.fixture("echo.json")))
        judged = self.judge("million-connections-2GB", found)
        resident = dict(judged.definitions)["resident memory only"]
        self.assertEqual({column: resident.measured[column].run_name for column in ("goroutine", "thread")},
                         {"goroutine": "echo_max_conns/go/procs:2", "thread": "echo_max_conns/std_thread"})

    def test_echo_memory_is_judged_all_in_and_resident_only(self):
        # 1,000 connections: a thread each costs 20 KiB resident and its 16 KiB kernel stack
        # and 4 KiB of page tables more; a goroutine each 2 KiB and a few bytes of page tables.
        found = summaries(
            ("echo/std_thread/conns:1000", {"server_rss_bytes_per_conn": 20480, "server_kernel_bytes_per_conn": 20480,
                                            "server_total_bytes_per_conn": 40960}, ""),
            ("echo/go/procs:2/conns:1000", {"server_rss_bytes_per_conn": 2048, "server_kernel_bytes_per_conn": 16,
                                             "server_total_bytes_per_conn": 2064}, ""))
        thread = self.judge("million-thread-connections-2TB", found)
        by_name = {name: j for name, j in thread.definitions}
        self.assertEqual(by_name["all-in (RSS + page tables + kernel stacks)"].measured["thread"].value, 40960e6)
        self.assertEqual(by_name["resident memory only"].measured["thread"].value, 20480e6)
        self.assertTrue(thread.verdict.startswith("off by"), thread.verdict)
        goroutine = self.judge("million-connections-2GB", found)
        self.assertEqual(goroutine.verdict, "holds")
        self.assertEqual(len(goroutine.definitions), 2)

    def test_each_echo_memory_definition_is_judged_where_it_was_measured(self):
        # The fixture has the kernel side for two closed-loop rows at 1,000 connections
        # only (its max-conns rows predate it): all-in is judged there, RSS at the most.
        found = results.summarize(results.load(support.fixture("echo.json")))
        judged = self.judge("million-connections-2GB", found)
        self.assertEqual([(j.verdict, j.measured["goroutine"].run_name) for _, j in judged.definitions],
                         [("off by ×3.9 (higher)", "echo/go/procs:2/conns:1000"),
                          ("off by ×3.7 (higher)", "echo_max_conns/go/procs:2")])
        without = results.summarize(results.load(support.fixture("run_a.json")))
        self.assertEqual(self.judge("million-connections-2GB", without).verdict, "not measured")

    def test_without_echo_runs_every_server_claim_is_not_measured(self):
        found = results.summarize(results.load(support.fixture("run_a.json")))
        for claim_id in ECHO_CLAIMS:
            judged = self.judge(claim_id, found)
            self.assertEqual(judged.verdict, "not measured", claim_id)
            self.assertIn("no run in this file measures", judged.why)

    def test_reaching_a_million_or_a_machine_limit(self):
        def goroutines(count, bound):
            return summaries(("echo_max_conns/go/procs:2", {"max_conns": count, "nofile_limit": 1048576,
                                                            "server_rss_bytes_per_conn": 4096}, f"bound:{bound}"))
        claim = "million-connections-goroutine-each"
        self.assertEqual(self.judge(claim, goroutines(1_000_000, "cap")).verdict, "holds")
        self.assertTrue(self.judge(claim, goroutines(1_000_000, "cap")).why.startswith(
            "goroutine: 1,000,000 (bound:cap) from echo_max_conns/go/procs:2 (max_conns)."))
        stopped = self.judge(claim, goroutines(400_000, "mem_available"))
        self.assertEqual(stopped.verdict, "does not hold here")
        self.assertIn("stopped at 400,000 (bound:mem_available) (echo_max_conns/go/procs:2); server memory "
                      "per connection 4.00 KiB extrapolates to 3.81 GiB for 1,000,000", stopped.why)
        self.assertEqual(self.judge(claim, goroutines(400_000, "time")).verdict, "not measured")
        both = summaries(("echo_max_conns/go/procs:2", {"max_conns": 400_000, "server_rss_bytes_per_conn": 4096,
                                                         "server_total_bytes_per_conn": 5120}, "bound:mem_available"))
        self.assertIn("; server memory per connection, all-in (RSS + page tables + kernel stacks) 5.00 KiB "
                      "extrapolates to 4.77 GiB for 1,000,000; server memory per connection 4.00 KiB extrapolates "
                      "to 3.81 GiB for 1,000,000", self.judge(claim, both).why)
        ports = self.judge(claim, goroutines(900_000, "ports"))
        self.assertEqual(ports.verdict, "not measured")
        self.assertIn("not reached here: bound by ports (a limit of this machine's set-up", ports.why)

    def test_threads_per_connection_and_os_limits(self):
        def threads(count, bound):
            return summaries(("echo_max_conns/std_thread", {"max_conns": count, "nofile_limit": 1024},
                              f"bound:{bound}"))
        claim = "thread-per-connection-hits-os-limits"
        self.assertEqual(self.judge(claim, threads(4090, "cgroup_pids")).verdict, "holds")
        self.assertEqual(self.judge(claim, threads(30000, "pid_max")).verdict, "off by ×3.0 (higher)")
        nofile = self.judge(claim, threads(990, "nofile"))
        self.assertEqual(nofile.verdict, "not measured")
        self.assertIn("thread: not reached here: bound by nofile=1,024", nofile.why)

    def test_ratios_compare_the_same_connection_count(self):
        found = summaries(("echo/std_thread/conns:1000", {"server_cpu_ns_per_request": 20000}, ""),
                          ("echo/go/procs:2/conns:1000", {"server_cpu_ns_per_request": 10000}, ""),
                          ("echo/go/procs:2/conns:10000", {"server_cpu_ns_per_request": 40000}, ""))
        self.assertJudged("blocked-goroutine-parked", found, "holds", goroutine="echo/go/procs:2/conns:1000")
        slower = summaries(("echo/std_thread/conns:1000", {"server_cpu_ns_per_request": 10000}, ""),
                           ("echo/go/procs:2/conns:1000", {"server_cpu_ns_per_request": 20000}, ""))
        self.assertEqual(self.judge("blocked-goroutine-parked", slower).verdict, "off by ×2.0 (lower)")

    def test_throughput_needs_thousands_of_connections_and_a_free_client(self):
        def servers(conns, thread_label=""):
            return summaries((f"echo/std_thread/conns:{conns}", {"requests_per_second": 40000}, thread_label),
                             (f"echo/go/procs:2/conns:{conns}", {"requests_per_second": 50000}, ""))
        claim = "thread-per-connection-slows-at-thousands"
        self.assertEqual(self.judge(claim, servers(1000)).verdict, "holds")
        self.assertEqual(self.judge(claim, servers(100)).verdict, "not measured")
        saturated = self.judge(claim, servers(1000, "client_saturated"))
        self.assertEqual(saturated.verdict, "not measured")
        self.assertIn("thread: echo/std_thread/conns:1000 was client_saturated (the load generator", saturated.why)


if __name__ == "__main__":
    unittest.main()
