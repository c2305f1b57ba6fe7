"""Tests of greenbench/utest.py against p-values counted by hand: the U test and the
signed-rank test."""

import math
import unittest

import support  # noqa: F401  (puts scripts/ on the path)
from greenbench.utest import _signed_rank_counts, _u_counts, p_larger, p_positive, u_statistic


class MannWhitneyTest(unittest.TestCase):
    def test_complete_separation(self):
        self.assertEqual(p_larger([1, 2, 3], [4, 5, 6]), 1 / 20)         # 1 ordering of C(6,3)
        self.assertEqual(p_larger([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]), 1 / 252)
        self.assertEqual(p_larger([4, 5, 6], [1, 2, 3]), 1.0)            # the other way round

    def test_exact_distribution(self):
        # Orderings of 4 and 4 values by U: the partitions that fit in a 4 x 4 box.
        self.assertEqual(_u_counts(4, 4), (1, 1, 2, 3, 5, 5, 7, 7, 8, 7, 7, 5, 5, 3, 2, 1, 1))
        for m, n in ((1, 7), (5, 3), (9, 11)):
            self.assertEqual(sum(_u_counts(m, n)), math.comb(m + n, m))

    def test_partial_overlap(self):
        a, b = [1.1, 2.2, 3.3, 4.4], [2.5, 3.5, 4.5, 5.5]
        self.assertEqual(u_statistic(a, b), 13)
        self.assertAlmostEqual(p_larger(a, b), 7 / 70)                  # U >= 13: 3 + 2 + 1 + 1

    def test_ties_use_the_normal_approximation(self):
        self.assertEqual(p_larger([1, 1, 1], [1, 1, 1]), 1.0)
        p = p_larger([1, 2, 2, 3], [2, 3, 3, 4])
        self.assertGreater(p, 0.05)
        self.assertLess(p, 0.2)

    def test_large_samples(self):
        self.assertLess(p_larger(list(range(30)), [x + 20 for x in range(30)]), 1e-4)
        self.assertGreater(p_larger(list(range(30)), [x + 0.5 for x in range(30)]), 0.3)


class SignedRankTest(unittest.TestCase):
    def test_all_positive(self):
        self.assertEqual(p_positive([0.1, 0.2, 0.3, 0.4, 0.5]), 1 / 32)  # 1 sign pattern of 2^5
        self.assertEqual(p_positive([-0.1, -0.2, -0.3, -0.4, -0.5]), 1.0)

    def test_exact_distribution(self):
        # W+ of ranks 1..4: the subsets of {1, 2, 3, 4} by their sum.
        self.assertEqual(_signed_rank_counts(4), (1, 1, 1, 2, 2, 2, 2, 2, 1, 1, 1))
        self.assertEqual(sum(_signed_rank_counts(12)), 2 ** 12)

    def test_one_negative(self):
        # The smallest difference negative: W+ = 14 of 15; patterns with W+ >= 14: 2.
        self.assertEqual(p_positive([-0.1, 0.2, 0.3, 0.4, 0.5]), 2 / 32)

    def test_zeros_are_dropped(self):
        self.assertEqual(p_positive([0, 0, 0.1, 0.2, 0.3, 0.4, 0.5]), 1 / 32)
        self.assertEqual(p_positive([0, 0, 0]), 1.0)

    def test_ties_and_many_pairs_use_the_normal_approximation(self):
        self.assertLess(p_positive([0.01] * 12), 0.01)
        self.assertGreater(p_positive([0.01, -0.01] * 6), 0.3)
        self.assertLess(p_positive([0.001 * k for k in range(1, 41)]), 1e-6)


if __name__ == "__main__":
    unittest.main()
