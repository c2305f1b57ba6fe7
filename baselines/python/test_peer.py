"""Tests of peer.py, greenbench's Python peer: the workloads at small sizes do
the work they claim, the JSON follows the results format, and bad flags exit 2.

Invariant: the program is tested as the suite runs it, in a subprocess with the
same interpreter; its helpers are tested in-process.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import peer

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer.py")


def run_peer(*args):
    return subprocess.run([sys.executable, "-B", PEER, *args], capture_output=True, text=True, timeout=300)


class Helpers(unittest.TestCase):
    def test_create_runs_every_thread(self):
        wall_ns, tasks = peer.run_create(25)
        self.assertEqual(tasks, 25)
        self.assertGreater(wall_ns, 0)

    def test_job_parts_cover_the_range(self):
        for size, workers in [(10, 1), (10, 3), (7, 2)]:
            parts = peer.job_parts(size, workers)
            self.assertEqual(len(parts), workers)
            self.assertEqual(parts[0][0], 0)
            self.assertEqual(parts[-1][1], size)
            for (_, stop), (start, _) in zip(parts, parts[1:]):
                self.assertEqual(stop, start)

    def test_threads_and_processes_sum_the_job(self):
        want = sum(i * i % 1_000_003 for i in range(1000))  # the C++ suite's job, small
        for run in (peer.run_on_threads, peer.run_on_processes):
            for workers in (1, 2):
                seconds, total = run(1000, workers)
                self.assertEqual(total, want, (run.__name__, workers))
                self.assertGreater(seconds, 0)


    def test_timed_runs_time_until_the_minimum_after_a_warm_up(self):
        walls = []

        def run():
            walls.append(0.004)
            return 0.004
        runs, seconds, cpu = peer.timed_runs(0.03, run)
        self.assertEqual(len(walls), runs + 1)  # one warm-up
        self.assertAlmostEqual(seconds, 0.004 * runs)
        self.assertGreaterEqual(seconds, 0.03)
        self.assertLess(seconds - 0.004, 0.03)  # it stopped once the minimum had passed
        self.assertGreaterEqual(cpu, 0)

    def test_cpu_time_counts_waited_for_children(self):
        before = peer.process_cpu_seconds()
        peer.run_on_processes(300_000, 1)  # the work happens in a forked child only
        self.assertGreater(peer.process_cpu_seconds() - before, 0)


class Program(unittest.TestCase):
    def check_document(self, text, names, reps):
        document = json.loads(text)
        self.assertEqual(document["context"]["greenbench"]["format_version"], 1)
        self.assertTrue(document["context"]["greenbench"]["python_version"])
        entries = document["benchmarks"]
        self.assertEqual([entry["name"] for entry in entries], [name for name in names for _ in range(reps)])
        for position, entry in enumerate(entries):
            self.assertEqual(entry["run_type"], "iteration")
            self.assertEqual(entry["run_name"], entry["name"])
            self.assertEqual(entry["repetitions"], reps)
            self.assertEqual(entry["repetition_index"], position % reps)
            self.assertEqual(entry["threads"], 1)
            self.assertGreater(entry["real_time"], 0)
        return entries

    def test_create(self):
        result = run_peer("create", "-n", "200", "-reps", "2", "-min-time", "0.01")
        self.assertEqual(result.returncode, 0, result.stderr)
        entries = self.check_document(result.stdout, ["create/python_thread/mode:sequential/n:200"], 2)
        for entry in entries:
            self.assertEqual(entry["tasks"], 200)
            self.assertGreater(entry["ns_per_task"], 0)

    def test_gil_to_a_file(self):
        with tempfile.TemporaryDirectory() as directory:
            out = os.path.join(directory, "gil.json")
            result = run_peer("gil", "-workers", "2", "-reps", "1", "-job-size", "200000", "-min-time", "0.01",
                              "-out", out)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, "")
            with open(out, encoding="utf-8") as file:
                entries = self.check_document(file.read(), ["gil/python_process/workers:2/job:cpu",
                                                            "gil/python_thread/workers:2/job:cpu"], 1)
            self.assertEqual(os.listdir(directory), ["gil.json"])
        for entry in entries:
            self.assertGreater(entry["seconds"], 0)
            self.assertGreater(entry["speedup"], 0)

    def test_one_worker_has_speedup_one(self):
        result = run_peer("gil", "-workers", "1", "-job-size", "10000")
        self.assertEqual(result.returncode, 0, result.stderr)
        for entry in json.loads(result.stdout)["benchmarks"]:
            self.assertEqual(entry["speedup"], 1.0)

    def test_a_repetition_is_a_process_of_its_own(self):
        # What the parent starts for repetition 3: one repetition's entries, as a list.
        child = subprocess.run([sys.executable, "-B", PEER, "create", "-n", "20", "-reps", "5", "-min-time", "0.01"],
                               capture_output=True, text=True, timeout=300,
                               env={**os.environ, peer.REPETITION_ENV: "3"})
        self.assertEqual(child.returncode, 0, child.stderr)
        entries = json.loads(child.stdout)
        self.assertEqual([(e["repetition_index"], e["repetitions"]) for e in entries], [(3, 5)])
        self.assertGreaterEqual(entries[0]["iterations"], 1)
        self.assertGreaterEqual(entries[0]["cpu_time"], 0)

    def test_bad_flags_exit_2(self):
        for args in (["create", "-bogus"], ["create", "-n", "0"], ["create", "-n", "x"],
                     ["gil", "-workers", "0"], ["create", "-min-time", "0"], ["fly"], []):
            result = run_peer(*args)
            self.assertEqual(result.returncode, 2, args)
            self.assertTrue(result.stderr, args)
            self.assertEqual(result.stdout, "", args)


if __name__ == "__main__":
    unittest.main()
