"""Tests of greenbench.catalogue: the entries a run makes, their names and command lines,
for each profile; and, where the build's programs are given (ctest passes their paths in
GREENBENCH_TIMING and GREENBENCH_PROBE), that the names computed here are theirs."""

import os
import re
import subprocess
import unittest

import support  # noqa: F401 (puts scripts/ on the path)
from greenbench import catalogue

PATHS = catalogue.Paths("/src")
BUDGET = 1 << 30


def by_name(entries):
    return {e.name: e for e in entries}


class CatalogueTest(unittest.TestCase):
    def test_names_on_two_cpus(self):
        names = catalogue.timing_names(2)
        # 80, the thread rows of create batch and skynet on 1 and 2 CPUs (3 runtimes x 2
        # CPU counts x 3 entries), pairs and fanin (2 x (6 thread rows + 6 M:N rows)),
        # fairness and blocking (115), the pinned pair's switch on one worker and across two (2)
        self.assertEqual(len(names), 239)
        self.assertEqual(len(set(names)), len(names))
        for name in ("create/std_thread/mode:sequential/n:10000",
                     "create/boost_fiber/sched:work_stealing/workers:2/alloc:pooled/mode:batch/n:100000",
                     "switch/pthread/stack:64KiB/via:yield/cpus:1",
                     "switch/fiber/workers:2/via:handoff/cpus:2",
                     "switch/fiber/workers:2/via:handoff/place:same/cpus:2",
                     "switch/fiber/workers:2/via:handoff/place:cross/cpus:2",
                     "skynet/fiber/workers:1/via:join/n:1000000",
                     "skynet/fiber/workers:1/via:channel/n:1000000",
                     "gil/fiber/workers:2/job:cpu",
                     "create/std_thread/cpus:1/mode:batch/n:10000",
                     "skynet/pthread/stack:64KiB/cpus:2/via:channel/n:10000",
                     "pairs/std_thread/cpus:2/n:50000", "fanin/fiber/workers:1/n:50000",
                     "fanin/boost_fiber/sched:work_stealing/workers:2/alloc:pooled/n:50000",
                     "fairness/std_thread/via:spin/hogs:4/window:200ms",
                     "fairness/fiber/workers:2/via:maybe_yield/hogs:2/window:200ms",
                     "blocking/fiber/workers:1/call:read/via:blocking/blockers:4/window:200ms",
                     "blocking/pthread/stack:default/call:fsync/via:direct/blockers:0/window:200ms"):
            self.assertIn(name, names)
        self.assertNotIn("fairness/boost_fiber/sched:round_robin/workers:1/alloc:pooled/via:maybe_yield/hogs:1/window:200ms", names)
        self.assertNotIn("blocking/fiber/workers:2/call:read/via:blocking/blockers:0/window:200ms", names)
        self.assertNotIn("switch/fiber/workers:2/via:yield/cpus:2", names)
        # Only a runtime that can keep a task on a worker has placed rows (task_runtime.h).
        self.assertFalse([n for n in names if "/place:" in n and not n.startswith("switch/fiber/")])

    def test_scaling_worker_counts(self):
        self.assertEqual(catalogue.scaling_worker_counts(1), [1])
        self.assertEqual(catalogue.scaling_worker_counts(2), [1, 2])
        self.assertEqual(catalogue.scaling_worker_counts(6), [1, 2, 4, 6])
        self.assertEqual(catalogue.scaling_worker_counts(16), [1, 2, 4, 8, 16])
        self.assertEqual(catalogue.parse_worker_counts("1,2,4"), [1, 2, 4])
        for bad in ("", "0", "1,1", "2,x", "1025", "1;2"):
            with self.assertRaises(ValueError):
                catalogue.parse_worker_counts(bad)

    def test_workers_list_sets_the_scaling_entries(self):
        """--workers 1,2,4 on 2 CPUs: M:N and Go at 4 (oversubscribed), threads only on
        the CPUs there are; sequential creation stays at 1 and all cores."""
        entries = catalogue.entries("full", PATHS, 2, BUDGET, workers=[1, 2, 4])
        names = [e.name for e in entries]
        for name in ("skynet/fiber/workers:4/via:join/n:10000", "skynet/go/procs:4/via:channel/n:1000000",
                     "skynet/boost_fiber/sched:work_stealing/workers:4/alloc:pooled/via:join/n:10000",
                     "create/fiber/workers:4/mode:batch/n:10000", "create/go/procs:4/mode:batch/n:10000",
                     "skynet/std_thread/cpus:2/via:join/n:10000", "pairs/fiber/workers:4/n:50000",
                     "fanin/go/procs:4/n:50000"):
            self.assertIn(name, names)
        for name in ("skynet/std_thread/cpus:4/via:join/n:10000", "create/fiber/workers:4/mode:sequential/n:10000",
                     "create/go/procs:4/mode:sequential/n:10000", "switch/fiber/workers:4/via:handoff/cpus:4"):
            self.assertNotIn(name, names)
        timing = by_name(entries)["skynet/fiber/workers:4/via:join/n:10000"]
        self.assertIn("--workers=1,2,4", timing.argv)
        go = by_name(entries)["skynet/go/procs:4/via:join/n:10000"]
        self.assertEqual(go.argv[go.argv.index("-procs") + 1], "4")

    def test_one_cpu_has_no_second_worker_count(self):
        names = catalogue.timing_names(1)
        self.assertFalse([n for n in names if "cpus:2" in n or "workers:2/" in n and not n.startswith("gil/")])
        self.assertEqual(catalogue.runtime_prefixes(1),
                         ["std_thread", "pthread/stack:default", "pthread/stack:64KiB", "fiber/workers:1",
                          "boost_fiber/sched:round_robin/workers:1/alloc:default",
                          "boost_fiber/sched:round_robin/workers:1/alloc:pooled"])

    def test_timing_entry_runs_one_exact_name_per_process(self):
        entry = by_name(catalogue.entries("quick", PATHS, 2, BUDGET))["create/fiber/workers:2/mode:batch/n:10000"]
        self.assertEqual(entry.kind, "timing")
        self.assertEqual(entry.argv[0], "/src/build/release/benchmarks/greenbench_timing")
        self.assertIn("--benchmark_filter=^create/fiber/workers:2/mode:batch/n:10000$", entry.argv)
        self.assertIn("--benchmark_repetitions=1", entry.argv)
        self.assertEqual(entry.reps, catalogue.PROFILES["quick"]["reps"])

    def test_probe_and_peer_argv(self):
        entries = by_name(catalogue.entries("full", PATHS, 2, BUDGET))
        memory = entries["memory/pthread/stack:default/depth:16KiB/n:10000"]
        self.assertEqual(memory.argv, ["/src/build/release/benchmarks/greenbench_probe", "memory", "--runtime",
                                       "pthread/stack:default", "--n", "10000", "--depth-kib", "16"])
        max_count = entries["max_count/fiber/workers:2"]
        self.assertIn(str(BUDGET), max_count.argv)
        self.assertEqual(max_count.guard_bytes, BUDGET + BUDGET // 4)
        echo = entries["echo/go/procs:2/conns:10000"]
        self.assertEqual(echo.out_flag, "--out")
        self.assertIn("echo_max_conns/std_thread", entries)

    def test_after_burst_in_the_full_profile_only(self):
        full = [e for e in catalogue.entries("full", PATHS, 2, BUDGET) if e.name.startswith("after_burst/")]
        self.assertEqual([(e.name, e.argv[1:], e.reps) for e in full],
                         [("after_burst/std_thread/n:10000",
                           ["after_burst", "--runtime", "std_thread", "--n", "10000"], 3),
                          ("after_burst/fiber/workers:1/n:1000000",
                           ["after_burst", "--runtime", "fiber/workers:1", "--n", "1000000"], 3)])
        quick = catalogue.entries("quick", PATHS, 2, BUDGET)
        self.assertFalse([e.name for e in quick if e.name.startswith("after_burst/")])

    def test_echo_open_loop_at_the_profiles_rates(self):
        for profile in catalogue.PROFILES:
            prof = catalogue.PROFILES[profile]
            entries = by_name(catalogue.entries(profile, PATHS, 2, BUDGET))
            for server in ("epoll/loops:1", "std_thread", "fiber/workers:1", "fiber/workers:2", "go/procs:2"):
                for rate in prof["echo_rates"]:
                    entry = entries[f"echo_open_loop/{server}/conns:{prof['echo_rate_conns']}/rate:{rate}"]
                    self.assertEqual(entry.argv[entry.argv.index("--rate") + 1], str(rate))
                    self.assertEqual(entry.argv[entry.argv.index("--server") + 1], server)
            open_loop = [n for n in entries if n.startswith("echo_open_loop/")]
            self.assertEqual(len(open_loop), 5 * len(prof["echo_rates"]), profile)

    def test_echo_client_and_server_on_disjoint_cpus_from_four(self):
        two = by_name(catalogue.entries("quick", PATHS, 2, BUDGET))["echo/fiber/workers:2/conns:1000"]
        self.assertEqual(two.argv[two.argv.index("--client-cpus") + 1], "shared")
        self.assertNotIn("--client-threads", two.argv)
        eight = by_name(catalogue.entries("quick", PATHS, 8, BUDGET))
        self.assertNotIn("echo/fiber/workers:8/conns:1000", eight)
        for name in ("echo/fiber/workers:4/conns:1000", "echo/go/procs:4/conns:1000",
                     "echo_open_loop/std_thread/conns:1000/rate:20000"):
            argv = eight[name].argv
            self.assertEqual(argv[argv.index("--client-cpus") + 1], "4", name)
            self.assertEqual(argv[argv.index("--client-threads") + 1], "4", name)
        self.assertEqual(catalogue.echo_cpu_split(3), (3, 0))
        self.assertEqual(catalogue.echo_cpu_split(5), (3, 2))

    def test_every_figure_has_a_spread(self):
        for profile in catalogue.PROFILES:
            for e in catalogue.entries(profile, PATHS, 2, BUDGET):
                if e.name.startswith(("max_count/", "stack_max/", "echo_max_conns/")):
                    continue
                reps = e.reps if e.kind != "peer" else int(next(
                    e.argv[i + 1] for i, a in enumerate(e.argv) if a in ("-reps", "--reps")))
                self.assertGreaterEqual(reps, catalogue.MIN_REPS, f"{profile}: {e.name}")

    def test_quick_skips_and_leaves_out_optional_programs(self):
        quick = set(by_name(catalogue.entries("quick", PATHS, 2, BUDGET, has_echo=False, has_go=False)))
        for name in ("skynet/boost_fiber/sched:work_stealing/workers:2/alloc:pooled/via:join/n:1000000",
                     "skynet/boost_fiber/sched:work_stealing/workers:2/alloc:pooled/via:channel/n:10000",
                     "create/pthread/stack:64KiB/mode:sequential/n:10000", "max_count/boost_fiber/sched:"
                     "work_stealing/workers:2/alloc:pooled", "memory/fiber/workers:1/n:100000", "memory/std_thread/n:10000",
                     "memory/fiber/workers:2/n:100000", "skynet/std_thread/via:join/n:10000"):
            self.assertTrue(name not in quick, name)
        # Every runtime a claim reads stays, and each peer's best configuration.
        for name in ("create/std_thread/mode:sequential/n:10000", "create/fiber/workers:2/mode:batch/n:100000",
                     "skynet/boost_fiber/sched:work_stealing/workers:2/alloc:pooled/via:join/n:10000",
                     "skynet/fiber/workers:2/via:channel/n:1000000",
                     "max_count/std_thread", "max_count/fiber/workers:1", "memory/std_thread/depth:16KiB/n:1000",
                     "switch/fiber/workers:2/via:handoff/cpus:2", "skynet/fiber/workers:2/via:join/n:1000000",
                     "switch/fiber/workers:2/via:handoff/place:same/cpus:2",
                     "switch/fiber/workers:2/via:handoff/place:cross/cpus:2", "switch/std_thread/via:handoff/cpus:2"):
            self.assertTrue(name in quick, name)
        self.assertFalse([n for n in quick if n.startswith("echo") or "/go/" in n])

    def test_ci_counts_instructions_of_timing_entries_and_keeps_our_quick_timings(self):
        ci = by_name(catalogue.entries("ci", PATHS, 2, BUDGET))
        timing = set(catalogue.timing_names(2))
        counted = [e for e in ci.values() if e.kind == "instructions"]
        self.assertEqual(len(counted), 7)
        for e in counted:
            self.assertIn(e.source, timing)
            self.assertEqual(e.name, e.source + "/measure:instructions")
            self.assertIn("--iterations=1", e.argv)
            self.assertIn(f"--benchmark_filter=^{re.escape(e.source)}$", e.argv)
            self.assertRegex(e.source, r"/(fiber/workers:1|boost_fiber/sched:round_robin/workers:1/alloc:pooled)/")
        self.assertIn("switch/boost_fiber/sched:round_robin/workers:1/alloc:pooled/via:yield/cpus:1/measure:instructions", ci)
        timings = {n for n, e in ci.items() if e.kind == "timing"}
        self.assertTrue(all(n.split("/")[1] == "fiber" and "n:1000000" not in n and "n:100000" not in n
                            for n in timings), timings)
        self.assertIn("switch/fiber/workers:1/via:yield/cpus:1", timings)
        self.assertIn("switch/fiber/workers:2/via:handoff/place:same/cpus:2", timings)
        self.assertNotIn("switch/fiber/workers:2/via:handoff/place:cross/cpus:2", timings)
        self.assertTrue(all(ci[n].reps == 10 for n in timings))
        self.assertEqual({e.kind for e in ci.values()}, {"timing", "probe", "instructions"})
        self.assertFalse([e for e in catalogue.entries("quick", PATHS, 2, BUDGET) if e.kind == "instructions"])

    def test_quick_has_skynet_at_1m_on_one_worker_and_on_all_cpus(self):
        several = {e.name for e in catalogue.entries("quick", PATHS, 2, BUDGET)}
        one = {e.name for e in catalogue.entries("quick", PATHS, 1, BUDGET)}
        at_1m = sorted(n for n in several if n.startswith("skynet/") and n.endswith("/n:1000000")
                       and "/gogc:" not in n)
        self.assertEqual(at_1m, [f"skynet/{rt}/via:{via}/n:1000000"
                                 for rt in ("fiber/workers:1", "fiber/workers:2", "go/procs:1", "go/procs:2")
                                 for via in ("channel", "join")])
        at_1m = sorted(n for n in one if n.startswith("skynet/") and n.endswith("/n:1000000")
                       and "/gogc:" not in n)
        self.assertEqual(at_1m, [f"skynet/{rt}/via:{via}/n:1000000" for rt in ("fiber/workers:1", "go/procs:1")
                                 for via in ("channel", "join")])

    def test_go_times_as_the_cpp_rows_and_has_control_rows_with_the_collector_off(self):
        entries = by_name(catalogue.entries("quick", PATHS, 2, BUDGET))
        min_time = str(catalogue.PROFILES["quick"]["min_time"])
        for name in ("create/go/procs:1/mode:batch/n:10000", "switch/go/procs:1/via:yield/cpus:1",
                     "skynet/go/procs:2/via:join/n:1000000", "create/go/procs:2/gogc:off/mode:batch/n:100000",
                     "skynet/go/procs:2/gogc:off/via:channel/n:1000000"):
            argv = entries[name].argv
            self.assertEqual(argv[argv.index("-min-time") + 1], min_time, name)
            self.assertEqual("-gogc" in argv, "/gogc:off/" in name, name)

    def test_select(self):
        entries = catalogue.entries("quick", PATHS, 2, BUDGET)
        chosen = catalogue.select(entries, ["switch/go*", "*/go/procs:1/*"])
        self.assertEqual([e.name for e in chosen], [
            "create/go/procs:1/mode:sequential/n:10000", "create/go/procs:1/mode:batch/n:10000",
            "create/go/procs:1/mode:sequential/n:100000", "create/go/procs:1/mode:batch/n:100000",
            "pairs/go/procs:1/n:50000", "fanin/go/procs:1/n:50000",
            "skynet/go/procs:1/via:join/n:10000", "skynet/go/procs:1/via:channel/n:10000",
            "skynet/go/procs:1/via:join/n:1000000", "skynet/go/procs:1/via:channel/n:1000000",
            "switch/go/procs:1/via:yield/cpus:1", "switch/go/procs:1/via:handoff/cpus:1",
            "switch/go/procs:2/via:handoff/cpus:2",
            "fairness/go/procs:1/via:spin/hogs:1/window:200ms", "fairness/go/procs:1/via:spin/hogs:2/window:200ms",
            "blocking/go/procs:1/call:nanosleep/via:direct/blockers:0/window:200ms",
            "blocking/go/procs:1/call:nanosleep/via:direct/blockers:2/window:200ms",
            "blocking/go/procs:1/call:nanosleep/via:direct/blockers:4/window:200ms",
            "create/go/procs:1/cpuset:1/mode:sequential/n:10000"])
        self.assertEqual(catalogue.select(entries, None), entries)

    def test_threads_rows_on_one_cpu_beside_one_worker_and_one_p(self):
        full = by_name(catalogue.entries("full", PATHS, 2, BUDGET))
        for name in ("create/std_thread/cpuset:1/mode:sequential/n:10000", "skynet/std_thread/cpuset:1/via:join/n:10000",
                     "create/fiber/workers:1/cpuset:1/mode:sequential/n:10000",
                     "create/go/procs:1/cpuset:1/mode:sequential/n:10000"):
            pinned, plain = full[name], full[name.replace("cpuset:1/", "")]
            self.assertEqual((pinned.cpuset, plain.cpuset), (1, 0), name)
            self.assertEqual(pinned.argv, plain.argv, name)  # the child writes the plain name
        self.assertFalse([n for n in by_name(catalogue.entries("full", PATHS, 1, BUDGET)) if "cpuset:" in n])


@unittest.skipUnless(os.environ.get("GREENBENCH_TIMING") and os.environ.get("GREENBENCH_PROBE"),
                     "GREENBENCH_TIMING and GREENBENCH_PROBE name the built programs (ctest sets them)")
class CatalogueMatchesBinariesTest(unittest.TestCase):
    def output(self, *argv):
        return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300).stdout.split()

    def test_timing_names(self):
        self.assertEqual(catalogue.timing_names(catalogue.usable_cpus()),
                         self.output(os.environ["GREENBENCH_TIMING"], "--list"))

    def test_probe_runtimes(self):
        self.assertEqual(catalogue.runtime_prefixes(catalogue.usable_cpus()),
                         self.output(os.environ["GREENBENCH_PROBE"], "--list-runtimes"))


if __name__ == "__main__":
    unittest.main()
