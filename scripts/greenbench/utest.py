"""Rank tests, one-sided: the Mann-Whitney U test for "are these repetitions larger than
those?" (two independent runs), and the Wilcoxon signed-rank test for "are these paired
differences positive?" (an A/B run's base and candidate, measured in alternation).

compare uses the U test so that a median which moved beyond the noise threshold counts
as worse only when the repetitions agree; bench_all --ab uses the signed-rank test on
the pairs. Invariant: p_larger() and p_positive() return a probability in (0, 1]: exact
(from the count of orderings or of sign patterns) for small samples without ties, else
the normal approximation with tie and continuity corrections.
"""

import functools
import math

_EXACT_MAX_TOTAL = 40  # exact counts up to 40 values in all: C(40, 20) orderings is cheap
_EXACT_MAX_PAIRS = 30  # exact signed-rank counts up to 30 pairs: sums reach 465


def u_statistic(a, b):
    """U of b over a: the pairs (x in a, y in b) with y > x, a tie counting one half."""
    return sum(1.0 if y > x else 0.5 if y == x else 0.0 for x in a for y in b)


@functools.lru_cache(maxsize=None)
def _u_counts(m, n):
    """counts[u]: how many orderings of m values of a and n of b give U (of b over a) = u."""
    if m == 0 or n == 0:
        return (1,)
    # The largest value is b's (it beats all m of a) or a's (it beats none of b).
    with_b = _u_counts(m, n - 1)
    with_a = _u_counts(m - 1, n)
    counts = [0] * (m * n + 1)
    for u, c in enumerate(with_b):
        counts[u + m] += c
    for u, c in enumerate(with_a):
        counts[u] += c
    return tuple(counts)


def p_larger(a, b):
    """One-sided p-value of the hypothesis that values of b tend to be larger than a's:
    the chance of a U at least this large were both drawn from one distribution."""
    m, n = len(a), len(b)
    if m == 0 or n == 0:
        raise ValueError("p_larger() needs two non-empty samples")
    u = u_statistic(a, b)
    pooled = sorted(list(a) + list(b))
    ties = [pooled.count(v) for v in set(pooled)]
    if max(ties) == 1 and m + n <= _EXACT_MAX_TOTAL:
        counts = _u_counts(m, n)
        return sum(counts[math.ceil(u):]) / math.comb(m + n, m)
    total = m + n
    variance = m * n / 12.0 * ((total + 1) - sum(t ** 3 - t for t in ties) / (total * (total - 1)))
    if variance <= 0.0:
        return 1.0
    z = (u - m * n / 2.0 - 0.5) / math.sqrt(variance)
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _ranks(values):
    """Ranks 1..n of values, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


@functools.lru_cache(maxsize=None)
def _signed_rank_counts(n):
    """counts[w]: how many of the 2^n sign patterns of ranks 1..n give W+ = w."""
    counts = [1]
    for rank in range(1, n + 1):
        grown = counts + [0] * rank
        for w, c in enumerate(counts):
            grown[w + rank] += c
        counts = grown
    return tuple(counts)


def p_positive(differences):
    """One-sided p-value of the hypothesis that paired differences tend to be positive:
    the chance of a signed-rank sum W+ at least this large were each difference's sign a
    coin toss. Zero differences are dropped (Wilcoxon's rule); none left gives 1."""
    nonzero = [d for d in differences if d != 0]
    n = len(nonzero)
    if n == 0:
        return 1.0
    ranks = _ranks([abs(d) for d in nonzero])
    w_plus = sum(r for r, d in zip(ranks, nonzero) if d > 0)
    if all(r == int(r) for r in ranks) and len(set(ranks)) == n and n <= _EXACT_MAX_PAIRS:
        counts = _signed_rank_counts(n)
        return sum(counts[int(w_plus):]) / 2.0 ** n
    ties = [ranks.count(r) for r in set(ranks)]
    variance = n * (n + 1) * (2 * n + 1) / 24.0 - sum(t ** 3 - t for t in ties) / 48.0
    if variance <= 0.0:
        return 1.0
    z = (w_plus - n * (n + 1) / 4.0 - 0.5) / math.sqrt(variance)
    return 0.5 * math.erfc(z / math.sqrt(2.0))
