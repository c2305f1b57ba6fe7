"""The Mann-Whitney U test, one-sided, for "are these repetitions larger than those?".

compare uses it so that a median which moved beyond the noise threshold counts as
worse only when the repetitions agree. Invariant: p_larger() returns a probability in
(0, 1]: exact (from the count of orderings) for small samples without ties, else the
normal approximation with tie and continuity corrections.
"""

import functools
import math

_EXACT_MAX_TOTAL = 40  # exact counts up to 40 values in all: C(40, 20) orderings is cheap


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
