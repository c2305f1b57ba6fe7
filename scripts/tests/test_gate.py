"""The regression gate, end to end, on the real programs: bench_all counts the
instructions of our runtime's yield switch under callgrind in the release build twice and
in the planted build (CMake preset `planted`: GREEN_PLANTED_YIELD_COST=2, two
instructions more per yield, about +1.7%) once; compare passes the release's two runs
(their counts agree within 0.1%) and fails the planted one on instructions_per_switch.

Needs valgrind and both builds (scripts/test builds the planted one; by hand:
`cmake --preset planted && cmake --build --preset planted`); skipped, saying which is
missing, otherwise. It asserts counts, never times.
"""

import os
import shutil
import unittest

import support
from greenbench import results

ROOT = os.path.dirname(support.SCRIPTS)
ENTRY = "switch/fiber/workers:1/via:yield/cpus:1/measure:instructions"
COUNTER = "instructions_per_switch"


def build_of(timing):
    """The build folder of a greenbench_timing program (DIR/benchmarks/greenbench_timing)."""
    return os.path.dirname(os.path.dirname(timing))


RELEASE = build_of(os.environ.get("GREENBENCH_TIMING")
                   or os.path.join(ROOT, "build", "release", "benchmarks", "greenbench_timing"))
PLANTED = os.path.join(ROOT, "build", "planted")


def missing():
    """What the test lacks, or ''."""
    if not shutil.which("valgrind"):
        return "valgrind is not installed (scripts/setup installs it)"
    for build in (RELEASE, PLANTED):
        if not os.access(os.path.join(build, "benchmarks", "greenbench_timing"), os.X_OK):
            return f"no greenbench_timing in {build}"
    return ""


@unittest.skipIf(missing(), missing())
class PlantedRegressionTest(support.ScratchTestCase):
    def count(self, build, name):
        out = os.path.join(self.tmp, name)
        run = support.run_script("bench_all", "--profile", "ci", "--build-dir", build, "--only", ENTRY,
                                 "--out", out)
        self.assertEqual(run.returncode, 0, run.stderr)
        return out

    def test_one_more_percent_of_instructions_on_yield_is_caught(self):
        first, second = self.count(RELEASE, "release-1.json"), self.count(RELEASE, "release-2.json")
        planted = self.count(PLANTED, "planted.json")

        counts = [results.summarize(results.load(path))[ENTRY].figures[COUNTER] for path in (first, second)]
        for figure in counts:
            self.assertEqual(len(figure.values), 3)
            self.assertLess(max(figure.values) / min(figure.values) - 1, 0.001, figure.values)
        self.assertLess(abs(counts[1].median / counts[0].median - 1), 0.001)

        same = support.run_script("compare", first, second)
        self.assertEqual(same.returncode, 0, same.stdout)
        caught = support.run_script("compare", first, planted)
        self.assertEqual(caught.returncode, 1, caught.stdout)
        worse = [line for line in caught.stdout.splitlines() if line.startswith("WORSE")]
        self.assertEqual(len(worse), 1, caught.stdout)
        self.assertIn(ENTRY, worse[0])
        self.assertIn(COUNTER, worse[0])
        planted_median = results.summarize(results.load(planted))[ENTRY].figures[COUNTER].median
        # Two instructions more per yield, and a one-way switch is one yield.
        self.assertAlmostEqual(planted_median - counts[0].median, 2.0, delta=0.05)


if __name__ == "__main__":
    unittest.main()
