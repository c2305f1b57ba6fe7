"""Tests of greenbench/scaling.py on the checked-in fixture scaling.json (2 CPUs, scaling
entries at 1, 2 and 4 workers, 4 oversubscribed): which runs form a group, the speedup
over W=1 and its range, efficiency, CPUs busy, and the oversubscribed mark."""

import unittest

import support  # noqa: F401 (puts scripts/ on the path)
from greenbench import results, scaling


def load_groups(oversubscribed=None, cpus=2):
    doc = results.load(support.fixture("scaling.json"))
    return {(g.workload, g.case, g.family): g
            for g in scaling.groups(results.summarize(doc), cpus, oversubscribed)}


class ScalingGroupsTest(unittest.TestCase):
    def test_worker_count_and_family_read_from_the_name(self):
        for run_name, workers, family in (
                ("skynet/fiber/workers:4/via:join/n:10", 4, "fiber"),
                ("skynet/go/procs:2/via:join/n:10", 2, "go"),
                ("skynet/pthread/stack:64KiB/cpus:2/via:join/n:10", 2, "pthread stack:64KiB"),
                ("skynet/boost_fiber/sched:work_stealing/workers:2/alloc:pooled/via:join/n:10", 2,
                 "boost_fiber alloc:pooled"),
                ("skynet/std_thread/via:join/n:10", None, "std_thread")):
            name = results.parse_name(run_name)
            self.assertEqual(scaling.worker_count(name), workers, run_name)
            self.assertEqual(scaling.family(name), family, run_name)

    def test_speedup_efficiency_and_cpus_busy(self):
        fiber = load_groups()[("skynet", "via:join n:10000", "fiber")]
        self.assertEqual([p.workers for p in fiber.points], [1, 2, 4])
        two = fiber.points[1]
        self.assertAlmostEqual(two.speedup, 200 / 110)
        self.assertAlmostEqual(two.speedup_low, 200 / 120)
        self.assertAlmostEqual(two.speedup_high, 200 / 100)
        self.assertAlmostEqual(two.efficiency, 200 / 110 / 2)
        self.assertAlmostEqual(two.busy_cpus, 210 / 110)
        self.assertEqual([p.oversubscribed for p in fiber.points], [False, False, True])

    def test_groups_span_worker_counts_and_leave_unrestricted_threads_out(self):
        groups = load_groups()
        self.assertEqual(sorted(groups), [
            ("create", "mode:batch n:10000", "fiber"),
            ("pairs", "n:50000", "fiber"),
            ("skynet", "via:join n:10000", "boost_fiber alloc:pooled"),
            ("skynet", "via:join n:10000", "fiber"),
            ("skynet", "via:join n:10000", "go"),
            ("skynet", "via:join n:10000", "std_thread")])
        threads = groups[("skynet", "via:join n:10000", "std_thread")]
        self.assertEqual([p.workers for p in threads.points], [1, 2])  # not the plain std_thread row

    def test_pairs_read_their_time_per_hand_off(self):
        pairs = load_groups()[("pairs", "n:50000", "fiber")]
        self.assertAlmostEqual(pairs.points[1].speedup, 60 / 40)
        self.assertAlmostEqual(pairs.points[1].busy_cpus, 80 / 40)

    def test_no_speedup_without_a_run_at_one_worker(self):
        batch = load_groups()[("create", "mode:batch n:10000", "fiber")]
        self.assertEqual([p.workers for p in batch.points], [2, 4])
        self.assertEqual([p.speedup for p in batch.points], [None, None])
        self.assertEqual([p.efficiency for p in batch.points], [None, None])

    def test_oversubscription_from_the_cpus_where_the_context_has_no_list(self):
        fiber = load_groups(oversubscribed=None, cpus=4)[("skynet", "via:join n:10000", "fiber")]
        self.assertEqual([p.oversubscribed for p in fiber.points], [False, False, False])
        fiber = load_groups(oversubscribed=[2, 4], cpus=8)[("skynet", "via:join n:10000", "fiber")]
        self.assertEqual([p.oversubscribed for p in fiber.points], [False, True, True])


if __name__ == "__main__":
    unittest.main()
