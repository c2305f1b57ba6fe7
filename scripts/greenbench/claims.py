"""The notes' claims (scripts/claims.json) judged against the runs of one results file.

Each claim names, per column (thread, fiber, goroutine, peers), the runs and counters
that measure it, and how to judge it (the "about" lines of claims.json). Where the suite
measures a claim's quantity in more than one way (sequential or batch creation, a yield
or a hand-off switch), the claim lists each as a definition and is judged on every one:
the verdict names the definitions that disagree. Invariant: a verdict comes only from
measured runs the claim names; a claim whose judged column has no such run, or only NaN,
or only a run whose label says it measured something else (client_saturated), reads "not
measured", never a guess; a count stopped by a limit of the set-up (nofile) or of the
harness (its cap, the memory budget the user gave it) is never read as the runtime's limit.
"""

import fnmatch
import json
import math
from dataclasses import dataclass, field

from . import results
from .units import format_quantity, format_ratio, unit_of

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold here"
NOT_MEASURED = "not measured"
DEPENDS = "depends on the definition"
COLUMNS = ("thread", "fiber", "goroutine")  # the table's own columns; others are peers
_KINDS = ("range", "reaches", "os_limit_below")
_SIZE_PARAMETERS = ("n", "conns")  # a run's size: its tasks, its connections


class ClaimsError(Exception):
    """A claims file that cannot be read or does not have the expected shape."""


class OffBy(str):
    """A verdict outside the notes' figure, 'off by ×3.7 (lower)', that keeps its factor
    and direction, so verdicts can be combined without reading their text back."""

    def __new__(cls, factor, direction):
        verdict = super().__new__(cls, f"off by {format_ratio(factor)} ({direction})")
        verdict.factor, verdict.direction = factor, direction
        return verdict


@dataclass
class Measurement:
    """One column's value for one claim: the counters' medians summed and scaled."""
    value: float
    unit: str                # of the counters, for format_quantity
    run_name: str
    counters: tuple          # the counters summed
    label: str               # the run's label ('bound:nofile', 'client_saturated'), '' when none
    labels: frozenset        # every label any repetition of the run had
    figures: dict            # counter -> median, every counter of the run
    values: tuple = ()       # the summed, scaled value of each repetition, where the file has them

    def spread(self):
        """'41.0 µs–45.2 µs over 5 runs' from the repetitions, 'the same in 3 runs' where
        they all print alike, or '' with fewer than two."""
        if len(self.values) < 2:
            return ""
        low, high = (format_quantity(v, self.unit) for v in (min(self.values), max(self.values)))
        return f"the same in {len(self.values)} runs" if low == high else f"{low}–{high} over {len(self.values)} runs"

    @property
    def bound(self):
        """The limit that stopped a max-count run (its label without "bound:"), or ''."""
        return self.label[len("bound:"):] if self.label.startswith("bound:") else ""

    def text(self):
        """The value for a table cell, with the run's label (the bound that stopped it)."""
        shown = format_quantity(self.value, self.unit)
        return f"{shown} ({self.label})" if self.label else shown


@dataclass
class Judgement:
    """A claim, what each column measured, and the verdict with its one-line reason. A
    claim with several definitions keeps each one's own Judgement in `definitions`, and
    `measured` is that of its first definition."""
    claim: dict
    measured: dict           # column -> Measurement or None
    verdict: str
    why: str
    definitions: list = field(default_factory=list)  # (definition name, Judgement), if several


def read_document(path, what, error):
    """The JSON document at path (claims.json, goals.json); error('PATH: cannot read
    the WHAT: why') where it cannot be read or parsed."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise error(f"{path}: cannot read the {what}: {e}") from None


def load_claims(path):
    """The claims document at path (its "claims" list checked); ClaimsError otherwise."""
    doc = read_document(path, "claims", ClaimsError)
    for key in ("claims", "tolerance", "os_limit_bounds", "harness_bounds", "setup_bounds"):
        if not isinstance(doc, dict) or key not in doc:
            raise ClaimsError(f"{path}: no \"{key}\"")
    for i, claim in enumerate(doc["claims"]):
        for key in ("id", "sources", "claim", "figure", "judge", "measures"):
            if key not in claim:
                raise ClaimsError(f"{path}: claims[{i}] has no \"{key}\"")
        if claim["judge"].get("kind") not in _KINDS:
            raise ClaimsError(f"{path}: claim {claim['id']}: judge.kind must be one of {_KINDS}")
        for definition in claim.get("definitions", []):
            if "name" not in definition or not isinstance(definition.get("measures", {}), dict):
                raise ClaimsError(f"{path}: claim {claim['id']}: a definition needs a name "
                                  "and may have measures (an object)")
    return doc


def definitions(claim):
    """[(name, measures)]: each way the suite measures the claim, its columns' specs being
    the claim's own measures with the definition's in their place; one unnamed definition
    where the claim lists none."""
    if not claim.get("definitions"):
        return [("", claim["measures"])]
    return [(d["name"], {**claim["measures"], **d.get("measures", {})}) for d in claim["definitions"]]


def judge_all(claims_doc, summaries):
    """A Judgement for every claim, against {run_name: RunSummary} of one results file,
    on each of its definitions."""
    judgements = []
    for claim in claims_doc["claims"]:
        ways = definitions(claim)
        judged = [(name, _judge_definition(claims_doc, claim, measures, summaries, len(ways) == 1))
                  for name, measures in ways]
        judgements.append(judged[0][1] if len(judged) == 1 else _combine(claim, judged))
    return judgements


def _judge_definition(claims_doc, claim, measures, summaries, with_aside):
    """The Judgement of one definition of a claim. A claim on the ratio of two columns
    compares them at the largest size both measured."""
    min_size = claim["judge"].get("min_size", 0)
    on = claim["judge"]["on"]
    size = None
    if isinstance(on, list) and all(side in measures for side in on):
        common = set.intersection(*({_size_of(s) for s in _candidates(measures[side], summaries, min_size)}
                                    for side in on))
        size = max(common, default=None)
    return _judge(claims_doc, claim, measures, {
        column: measure(spec, summaries, size, min_size) for column, spec in measures.items()}, with_aside)


def judged_value(claim, judgement):
    """(value, unit) a definition's verdict rests on: the judged column's value, or the
    ratio of the two judged columns (unit "x"); (None, unit) where it was not measured."""
    on = claim["judge"]["on"]
    if isinstance(on, list):
        a, b = (judgement.measured.get(side) for side in on)
        return (a.value / b.value if a and b and b.value else None), "x"
    m = judgement.measured.get(on)
    return (m.value, m.unit) if m else (None, "")


def _judged_figure(claim, judgement):
    """The figure a definition's verdict rests on, as text (with the run's bound label)."""
    on = claim["judge"]["on"]
    if isinstance(on, list):
        value, _ = judged_value(claim, judgement)
        return format_ratio(value) if value is not None else "—"
    m = judgement.measured.get(on)
    return m.text() if m else "—"


def spread_between(judgements):
    """Across several files' Judgements of one claim, per definition where at least two
    measured it: 'sequential create: 43.1 µs–52.0 µs (×1.2)' (or 'the same (8.00 MiB)'),
    joined by '; '; '' otherwise.
    Runs of one host made at different times differ by more than one run's spread."""
    claim = judgements[0].claim
    parts = []
    for k, (name, _) in enumerate(definitions(claim)):
        per_file = [j.definitions[k][1] if j.definitions else j for j in judgements]
        measured = [judged_value(claim, j) for j in per_file]
        values = [v for v, _ in measured if v is not None and v > 0]
        if len(values) < 2:
            continue
        unit = next(u for v, u in measured if v is not None)
        low, high = (format_quantity(v, unit) for v in (min(values), max(values)))
        shown = f"the same ({low})" if low == high else f"{low}–{high} ({format_ratio(max(values) / min(values))})"
        parts.append(f"{name}: {shown}" if name else shown)
    return "; ".join(parts)


def _combine(claim, judged):
    """One Judgement from those of each definition: their verdict where the measured ones
    agree ('off by ×3.7–×6.0 (lower)' where all are off the same way by different
    factors), else DEPENDS with what each says ('holds for batch (742 ns); off by ×3.7
    (lower) for sequential (272 ns)'); the reason gives every definition's, then the
    claim's aside once."""
    why = " ".join(f"{name}: {j.why.rstrip('.')}." for name, j in judged)
    measured = [(name, j) for name, j in judged if j.verdict != NOT_MEASURED]
    if measured and claim.get("aside"):
        why += f" {claim['aside']}"
    verdicts = {j.verdict for _, j in measured}
    offs = [j.verdict for _, j in measured if isinstance(j.verdict, OffBy)]
    if not measured:
        verdict = NOT_MEASURED
    elif len(verdicts) == 1:
        verdict = verdicts.pop()
    elif len(offs) == len(measured) and len({off.direction for off in offs}) == 1:  # all off, one way
        factors = sorted(off.factor for off in offs)
        verdict = f"off by {format_ratio(factors[0])}–{format_ratio(factors[-1])} ({offs[0].direction})"
    else:
        verdict = f"{DEPENDS}: " + "; ".join(
            f"{j.verdict} for {name} ({_judged_figure(claim, j)})" for name, j in measured)
    return Judgement(claim, judged[0][1].measured, verdict, why, judged)


def _size_of(summary):
    """The run's size: its n or conns parameter, else the connections a max-conns run held
    (its max_conns), else 0."""
    name = results.parse_name(summary.run_name)
    for parameter in _SIZE_PARAMETERS:
        value = name.param(parameter)
        if value and value.isdigit():
            return int(value)
    held = summary.figures.get("max_conns")
    return int(held.median) if held is not None and math.isfinite(held.median) else 0


def _measured(summary, counter):
    """True when the run has the counter and its median is a finite number."""
    figure = summary.figures.get(counter)
    return figure is not None and math.isfinite(figure.median)


# Parameters that set a run apart from what a claim is about unless its glob names them:
# tasks parked deep, tasks that went deep and returned, Go's collector off, a process held
# to fewer CPUs than the machine's.
SET_APART_PARAMETERS = ("depth", "recursed", "gogc", "cpuset")


def _candidates(spec, summaries, min_size=0):
    """The runs a column's spec matches that measured all its counters, at min_size or more.
    A run with a parameter of SET_APART_PARAMETERS matches only a glob that names it, so 'memory/go/*' means the tasks
    as they start and 'create/go/*' the runtime as it comes."""
    named = [p for p in SET_APART_PARAMETERS if p + ":" in spec["entries"]]
    return [s for s in results.select(summaries, spec["entries"])
            if all(_measured(s, c) for c in spec["counters"]) and _size_of(s) >= min_size
            and all(p in named or results.parse_name(s.run_name).param(p) is None
                    for p in SET_APART_PARAMETERS)]


def measure(spec, summaries, size=None, min_size=0):
    """The Measurement of one column's spec, or None where no run of min_size or more has
    its counters. Among matching runs, those of the given size where there are any, else
    the largest size, win; then the best median (a claim is about what a runtime can do)."""
    counters = spec["counters"]
    optional = spec.get("and_if_measured", [])
    candidates = _candidates(spec, summaries, min_size)
    if not candidates:
        return None
    sizes = {_size_of(s) for s in candidates}
    chosen_size = size if size in sizes else max(sizes)
    candidates = [s for s in candidates if _size_of(s) == chosen_size]

    def summed(summary):
        names = tuple(counters) + tuple(c for c in optional if _measured(summary, c))
        return sum(summary.figures[c].median for c in names) * spec.get("scale", 1), names

    pick = max if results.counter_direction(counters[0]) == "higher" else min
    chosen = pick(candidates, key=lambda s: summed(s)[0])
    value, names = summed(chosen)
    per_repetition = [chosen.figures[c].values for c in names]
    values = ()
    if len({len(v) for v in per_repetition}) == 1:  # every counter has every repetition
        values = tuple(sum(v) * spec.get("scale", 1) for v in zip(*per_repetition))
    return Measurement(value, unit_of(counters[0]), chosen.run_name, names, chosen.label,
                       frozenset(label for label in chosen.labels + [chosen.label] if label),
                       {counter: figure.median for counter, figure in chosen.figures.items()},
                       values)


def _judge(claims_doc, claim, measures, measured, with_aside):
    """The Judgement of one definition of a claim (its measures) from its columns'
    measurements; its reason ends with the claim's aside where with_aside is true."""
    on = claim["judge"]["on"]
    sides = on if isinstance(on, list) else [on]
    missing = [side for side in sides if measured.get(side) is None]
    if missing:
        why = claim.get("aside", "") if not measures else (
            f"no run in this file measures the {' and '.join(missing)} "
            f"column{'s' if len(missing) > 1 else ''} "
            f"({', '.join(measures[s]['entries'] for s in missing if s in measures)})")
        return Judgement(claim, measured, NOT_MEASURED, why)
    for side in sides:
        for label, meaning in claim["judge"].get("not_if_label", {}).items():
            if label in measured[side].labels:
                why = f"{side}: {measured[side].run_name} was {label} ({meaning})"
                return Judgement(claim, measured, NOT_MEASURED, why + ".")
    kind = claim["judge"]["kind"]
    if kind == "range":
        verdict, why = _judge_range(claims_doc, claim, [measured[s] for s in sides], sides)
    elif kind == "reaches":
        verdict, why = _judge_reaches(claims_doc, claim, measured[on], on)
    else:
        verdict, why = _judge_os_limit(claims_doc, claim, measured[on], on)
    why += _stated(claim, measured.get(sides[0]))
    aside = claim.get("aside") if with_aside else None
    return Judgement(claim, measured, verdict, f"{why}. {aside}" if aside else f"{why}.")


def _describe(m):
    """'43.1 µs [41.0–45.2 µs over 5 runs] from create/std_thread/mode:sequential/n:10000
    (ns_per_task)': the median, its spread where there are repetitions, and its source."""
    spread = m.spread()
    spread = f" [{spread}]" if spread else ""
    return f"{m.text()}{spread} from {m.run_name} ({' + '.join(m.counters)})"


def _stated(claim, m):
    """'; the largest stack it had: 512 MiB': the claim's judge.state counters of the judged
    run, said beside the verdict (what the judged figure is not), or ''."""
    if m is None:
        return ""
    said = []
    for spec in claim["judge"].get("state", []):
        value = m.figures.get(spec["counter"])
        if value is not None and math.isfinite(value):
            said.append(f"{spec['what']}: {format_quantity(value, unit_of(spec['counter']))}")
    return "".join(f"; {text}" for text in said)


def _judge_range(claims_doc, claim, sides, names):
    """Measured value (or ratio of two sides) within the claim's low..high, give or take
    the tolerance (none for a strict bound, such as "> 1"): holds; outside: off by ×N, N
    the ratio to the nearer end of the range."""
    figure = claim["figure"]
    if len(sides) == 2:
        value = sides[0].value / sides[1].value if sides[1].value else math.nan
        shown = (f"{names[0]}/{names[1]} = {format_ratio(value)}: "
                 f"{_describe(sides[0])} over {_describe(sides[1])}")
    else:
        value = sides[0].value
        shown = _describe(sides[0])
    if not (value > 0 or (value == 0 and figure.get("may_be_zero"))) or math.isinf(value):
        return NOT_MEASURED, f"the measured value is {value}: {shown}"
    tolerance = (1.0 if figure.get("strict") else
                 claims_doc["tolerance"]["approx" if figure.get("approx") else "range"])
    low, high = figure.get("low"), figure.get("high")
    if low is not None and value < low / tolerance:
        return OffBy(low / value, "lower"), f"{shown}, below {figure['text']}"
    if high is not None and value > high * tolerance:
        return OffBy(value / high, "higher"), f"{shown}, above {figure['text']}"
    return HOLDS, f"{shown}, within {figure['text']}"


def _is_bound(claims_doc, key, bound):
    """True when bound matches one of claims_doc[key]'s patterns (e.g. os_limit_bounds)."""
    return any(fnmatch.fnmatchcase(bound, pattern) for pattern in claims_doc[key])


def _not_reached(column, m):
    """'goroutine: not reached here: bound by nofile=20,000 (a limit of this machine's set-up,
    not of the runtime) at 19,968 (RUN)': the setup bound that stopped m, with its value
    where the run recorded it as the counter <bound>_limit."""
    limit = m.figures.get(f"{m.bound}_limit")
    shown = f"={format_quantity(limit, 'count')}" if limit is not None and math.isfinite(limit) else ""
    return (f"{column}: not reached here: bound by {m.bound}{shown} (a limit of this machine's "
            f"set-up, not of the runtime) at {format_quantity(m.value, 'count')} ({m.run_name})")


def _extrapolated(claim, m, count):
    """'; server memory per connection 7.38 KiB extrapolates to 7.03 GiB for 1,000,000', for
    each of the claim's judge.extrapolate counters (one {counter, what}, or a list of them)
    that the run measured, or '' where it has none."""
    specs = claim["judge"].get("extrapolate") or []
    said = []
    for spec in specs if isinstance(specs, list) else [specs]:
        per = m.figures.get(spec["counter"])
        if per is None or not math.isfinite(per):
            continue
        unit = unit_of(spec["counter"])
        said.append(f"; {spec['what']} {format_quantity(per, unit)} extrapolates to "
                    f"{format_quantity(per * count, unit)} for {format_quantity(count, 'count')}")
    return "".join(said)


def _judge_reaches(claims_doc, claim, m, column):
    """holds when the column's max-count run reached the claim's low; below it, does not
    hold where a limit of the machine stopped it, not measured where the harness or a limit
    of the set-up (nofile) did."""
    low = claim["figure"]["low"]
    if m.value >= low:
        return HOLDS, f"{column}: {_describe(m)}"
    if _is_bound(claims_doc, "harness_bounds", m.bound):
        return NOT_MEASURED, (f"{column}: the harness's own limit {m.bound} stopped it at "
                              f"{format_quantity(m.value, 'count')} before "
                              f"{format_quantity(low, 'count')} ({m.run_name}); raise it"
                              + _extrapolated(claim, m, low))
    if _is_bound(claims_doc, "setup_bounds", m.bound):
        return NOT_MEASURED, _not_reached(column, m) + _extrapolated(claim, m, low)
    return DOES_NOT_HOLD, f"{column}: stopped at {m.text()} ({m.run_name})" + _extrapolated(claim, m, low)


def _judge_os_limit(claims_doc, claim, m, column):
    """holds when an OS limit stopped the column's max-count run below the claim's high;
    off by ×N when an OS limit stopped it, but only past high (the limit is real, the
    count is not the claim's); does not hold when the run got past high and something
    other than an OS limit stopped it; not measured when something else (a limit of the
    set-up, the harness) stopped it first."""
    high = claim["figure"]["high"]
    count = format_quantity(m.value, "count")
    os_limit = _is_bound(claims_doc, "os_limit_bounds", m.bound)
    if m.value >= high and os_limit:
        return (OffBy(m.value / high, "higher"),
                f"{column}: the OS limit {m.bound} did stop it, but at {count} ({m.run_name}), "
                f"past {format_quantity(high, 'count')}")
    if m.value >= high:
        stopper = f"bound:{m.bound}" if m.bound else "anything"
        return DOES_NOT_HOLD, (f"{column}: {count} created ({m.run_name}), past "
                               f"{format_quantity(high, 'count')}, before {stopper} stopped it")
    if os_limit:
        return HOLDS, f"{column}: the OS limit {m.bound} stopped it at {count}"
    if _is_bound(claims_doc, "setup_bounds", m.bound):
        return NOT_MEASURED, _not_reached(column, m) + ", before any OS limit on tasks"
    return NOT_MEASURED, (f"{column}: stopped at {m.text()} before any OS limit; "
                          "the limit is not known")


def _measurement_record(m):
    """A Measurement as data: value and unit, its spread over repetitions, run and bound."""
    spread = [min(m.values), max(m.values)] if len(m.values) >= 2 else None
    return {"value": m.value, "unit": m.unit, "text": m.text(), "spread": spread,
            "repetitions": len(m.values), "run": m.run_name, "counters": list(m.counters),
            "bound": m.bound or None}


def _judged_record(claim, name, j):
    """One definition's verdict as data, with the judged column's (or columns')
    measurements."""
    on = claim["judge"]["on"]
    sides = on if isinstance(on, list) else [on]
    return {"definition": name or None, "verdict": j.verdict, "figure": _judged_figure(claim, j),
            "judged": {side: _measurement_record(j.measured[side]) if j.measured.get(side) else None
                       for side in sides}}


def record(judgement):
    """A Judgement as data, for `report --json` and dashboards: the claim, its verdict and
    reason, and per definition its verdict, the figure it rests on and the measurements,
    each with spread, run and bound."""
    claim = judgement.claim
    per_definition = judgement.definitions or [("", judgement)]
    return {"id": claim["id"], "claim": claim["claim"],
            "notes": [source.split("_")[0] for source in claim["sources"]],
            "notes_figure": claim["figure"]["text"], "verdict": judgement.verdict, "why": judgement.why,
            "definitions": [_judged_record(claim, name, j) for name, j in per_definition]}


def headline(judgement):
    """(verdict with the figure it rests on, where it comes from with its spread), for the
    report's first table: ('holds: 2.65 KiB', '2.60 KiB–2.71 KiB over 3 runs, memory/go/...'),
    per definition where there are several."""
    claim = judgement.claim
    on = claim["judge"]["on"]
    sides = on if isinstance(on, list) else [on]

    def source(name, j):
        if j.verdict == NOT_MEASURED:
            return f"{name}: {NOT_MEASURED}" if name else NOT_MEASURED
        parts = [f"{j.measured[side].run_name}" + (f" ({j.measured[side].spread()})" if j.measured[side].spread()
                                                   else "") for side in sides]
        return (f"{name}: " if name else "") + " over ".join(parts)

    if judgement.definitions:
        verdict = judgement.verdict
        if not verdict.startswith(DEPENDS) and verdict != NOT_MEASURED:
            verdict += ": " + "; ".join(f"{_judged_figure(claim, j)} ({name})"
                                        for name, j in judgement.definitions if j.verdict != NOT_MEASURED)
        return verdict, "; ".join(source(name, j) for name, j in judgement.definitions)
    verdict = judgement.verdict
    if verdict != NOT_MEASURED:
        verdict += f": {_judged_figure(claim, judgement)}"
    return verdict, source("", judgement)
