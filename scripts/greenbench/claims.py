"""The notes' claims (scripts/claims.json) judged against the runs of one results file.

Each claim names, per column (thread, fiber, goroutine, peers), the runs and counters
that measure it, and how to judge it (the "about" lines of claims.json). Invariant: a
verdict comes only from measured runs the claim names; a claim whose judged column has
no such run, or only NaN, reads "not measured", never a guess.
"""

import fnmatch
import json
import math
from dataclasses import dataclass

from . import results
from .units import format_quantity, format_ratio, unit_of

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold here"
NOT_MEASURED = "not measured"
COLUMNS = ("thread", "fiber", "goroutine")  # the table's own columns; others are peers
_KINDS = ("range", "reaches", "os_limit_below")


class ClaimsError(Exception):
    """A claims file that cannot be read or does not have the expected shape."""


@dataclass
class Measurement:
    """One column's value for one claim: the counters' medians summed and scaled."""
    value: float
    unit: str                # of the counters, for format_quantity
    run_name: str
    counters: tuple          # the counters summed
    bound: str               # the run's label without "bound:", '' when none

    def text(self):
        """The value for a table cell, with the bound that stopped a max-count run."""
        shown = format_quantity(self.value, self.unit)
        return f"{shown} (bound:{self.bound})" if self.bound else shown


@dataclass
class Judgement:
    """A claim, what each column measured, and the verdict with its one-line reason."""
    claim: dict
    measured: dict           # column -> Measurement or None
    verdict: str
    why: str


def load_claims(path):
    """The claims document at path (its "claims" list checked); ClaimsError otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise ClaimsError(f"{path}: cannot read the claims: {e}") from None
    for key in ("claims", "tolerance", "os_limit_bounds", "harness_bounds"):
        if not isinstance(doc, dict) or key not in doc:
            raise ClaimsError(f"{path}: no \"{key}\"")
    for i, claim in enumerate(doc["claims"]):
        for key in ("id", "sources", "claim", "figure", "judge", "measures"):
            if key not in claim:
                raise ClaimsError(f"{path}: claims[{i}] has no \"{key}\"")
        if claim["judge"].get("kind") not in _KINDS:
            raise ClaimsError(f"{path}: claim {claim['id']}: judge.kind must be one of {_KINDS}")
    return doc


def judge_all(claims_doc, summaries):
    """A Judgement for every claim, against {run_name: RunSummary} of one results file."""
    return [_judge(claims_doc, claim, {column: measure(spec, summaries)
                                       for column, spec in claim["measures"].items()})
            for claim in claims_doc["claims"]]


def _n_of(summary):
    """The run's n parameter as a number (0 when it has none)."""
    n = results.parse_name(summary.run_name).param("n")
    return int(n) if n and n.isdigit() else 0


def measure(spec, summaries):
    """The Measurement of one column's spec, or None where no run has its counters.
    Among matching runs, the largest n wins, then the best median (a claim is about what
    a runtime can do)."""
    counters = spec["counters"]
    optional = spec.get("and_if_measured", [])

    def measured(summary, counter):
        figure = summary.figures.get(counter)
        return figure is not None and math.isfinite(figure.median)

    candidates = [s for s in results.select(summaries, spec["entries"])
                  if all(measured(s, c) for c in counters)]
    if not candidates:
        return None
    largest_n = max(_n_of(s) for s in candidates)
    candidates = [s for s in candidates if _n_of(s) == largest_n]

    def summed(summary):
        names = tuple(counters) + tuple(c for c in optional if measured(summary, c))
        return sum(summary.figures[c].median for c in names) * spec.get("scale", 1), names

    pick = max if results.counter_direction(counters[0]) == "higher" else min
    chosen = pick(candidates, key=lambda s: summed(s)[0])
    value, names = summed(chosen)
    bound = chosen.label[len("bound:"):] if chosen.label.startswith("bound:") else ""
    return Measurement(value, unit_of(counters[0]), chosen.run_name, names, bound)


def _judge(claims_doc, claim, measured):
    """The Judgement of one claim from its columns' measurements."""
    on = claim["judge"]["on"]
    sides = on if isinstance(on, list) else [on]
    missing = [side for side in sides if measured.get(side) is None]
    if missing:
        why = claim.get("aside", "") if not claim["measures"] else (
            f"no run in this file measures the {' and '.join(missing)} "
            f"column{'s' if len(missing) > 1 else ''} "
            f"({', '.join(claim['measures'][s]['entries'] for s in missing if s in claim['measures'])})")
        return Judgement(claim, measured, NOT_MEASURED, why)
    kind = claim["judge"]["kind"]
    if kind == "range":
        verdict, why = _judge_range(claims_doc, claim, [measured[s] for s in sides], sides)
    elif kind == "reaches":
        verdict, why = _judge_reaches(claims_doc, claim, measured[on], on)
    else:
        verdict, why = _judge_os_limit(claims_doc, claim, measured[on], on)
    aside = claim.get("aside")
    return Judgement(claim, measured, verdict, f"{why}. {aside}" if aside else f"{why}.")


def _describe(m):
    """'8.00 MiB from memory/std_thread/n:10000 (vsz_bytes_per_task)'."""
    return f"{m.text()} from {m.run_name} ({' + '.join(m.counters)})"


def _judge_range(claims_doc, claim, sides, names):
    """Measured value (or ratio of two sides) within the claim's low..high, give or take
    the tolerance: holds; outside: off by ×N, N the ratio to the nearer end of the range."""
    figure = claim["figure"]
    if len(sides) == 2:
        value = sides[0].value / sides[1].value if sides[1].value else math.nan
        shown = (f"{names[0]}/{names[1]} = {format_ratio(value)}: "
                 f"{_describe(sides[0])} over {_describe(sides[1])}")
    else:
        value = sides[0].value
        shown = _describe(sides[0])
    if not value > 0 or math.isinf(value):
        return NOT_MEASURED, f"the measured value is {value}: {shown}"
    tolerance = claims_doc["tolerance"]["approx" if figure.get("approx") else "range"]
    low, high = figure.get("low"), figure.get("high")
    if low is not None and value < low / tolerance:
        return f"off by {format_ratio(low / value)} (lower)", f"{shown}, below {figure['text']}"
    if high is not None and value > high * tolerance:
        return f"off by {format_ratio(value / high)} (higher)", f"{shown}, above {figure['text']}"
    return HOLDS, f"{shown}, within {figure['text']}"


def _is_bound(claims_doc, key, bound):
    """True when bound matches one of claims_doc[key]'s patterns (e.g. os_limit_bounds)."""
    return any(fnmatch.fnmatchcase(bound, pattern) for pattern in claims_doc[key])


def _judge_reaches(claims_doc, claim, m, column):
    """holds when the column's max-count run reached the claim's low; below it, does not
    hold where a limit of the machine stopped it, not measured where the harness did."""
    low = claim["figure"]["low"]
    if m.value >= low:
        return HOLDS, f"{column}: {_describe(m)}"
    if _is_bound(claims_doc, "harness_bounds", m.bound):
        return NOT_MEASURED, (f"{column}: the harness stopped at {m.text()} before "
                              f"{format_quantity(low, 'count')}; raise its cap")
    return DOES_NOT_HOLD, f"{column}: stopped at {m.text()} ({m.run_name})"


def _judge_os_limit(claims_doc, claim, m, column):
    """holds when an OS limit stopped the column's max-count run below the claim's high;
    does not hold when the run got past high; not measured when something else stopped
    it first."""
    high = claim["figure"]["high"]
    if m.value >= high:
        stopper = f"bound:{m.bound}" if m.bound else "anything"
        return DOES_NOT_HOLD, (f"{column}: {format_quantity(m.value, 'count')} created "
                               f"({m.run_name}), past {format_quantity(high, 'count')}, "
                               f"before {stopper} stopped it")
    if _is_bound(claims_doc, "os_limit_bounds", m.bound):
        return HOLDS, f"{column}: the OS limit {m.bound} stopped it at {format_quantity(m.value, 'count')}"
    return NOT_MEASURED, (f"{column}: stopped at {m.text()} before any OS limit; "
                          "the limit is not known")
