"""The runtime's goals (scripts/goals.json) judged against the runs of one results file.

A goal bounds a lower-is-better counter of one exact row: its median, or the ratio of its
median to that of a second row of the same file (`over`: Go's, or the same runtime at a
smaller n), once for each combination of its `for` values. The verdict rests on the
median (or the ratio of the medians); the worst and best repetitions say whether the
verdict holds across the spread: the worst ratio is the row's highest repetition over
the other row's lowest, the best its lowest over the other's highest (repetitions of two
rows are not paired, so these are the extremes any pairing gives).
Invariant: a verdict comes only from the rows the goal names, in the file judged; a goal
whose row is absent, lacks the counter or has no finite figure reads "not measured" and
names the row, never a figure taken from another row. A goals file that does not have the
expected shape (an unknown key, a {field} its `for` does not define) is a GoalsError.
"""

import itertools
import math
import os
import re
from dataclasses import dataclass

from . import results
from .claims import read_document
from .units import format_quantity, format_ratio, unit_of

MET = "met"
MET_NOT_AT_WORST = "met, not at the worst repetition"
MET_WORST_UNKNOWN = "met, the worst repetition unknown (the file kept aggregates only)"
NOT_MET = "not met"
NOT_MEASURED = "not measured"
VERDICTS = (MET, MET_NOT_AT_WORST, MET_WORST_UNKNOWN, NOT_MET, NOT_MEASURED)
_REQUIRED = ("id", "source", "goal", "counter", "row", "at_most")
_OPTIONAL = ("over", "for")
_FIELD = re.compile(r"\{([^{}]*)\}")
# scripts/goals.json, which bench_all and report judge unless told otherwise.
DEFAULT_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "goals.json")


class GoalsError(Exception):
    """A goals file that cannot be read or does not have the expected shape."""


@dataclass
class Side:
    """One row's counter: its median and the range of its repetitions (None when the
    file kept aggregates only)."""
    run_name: str
    median: float
    low: float
    high: float
    repetitions: int

    def text(self, unit):
        """'190 ns [180 ns–193 ns, 3 runs]', or the median alone without repetitions."""
        shown = format_quantity(self.median, unit)
        if self.low is None:
            return f"{shown} [aggregates only]"
        if self.repetitions < 2:
            return f"{shown} [1 run]"
        return f"{shown} [{format_quantity(self.low, unit)}–{format_quantity(self.high, unit)}, " \
               f"{self.repetitions} runs]"


@dataclass
class Judgement:
    """One instance of a goal (one combination of its `for` values) judged on one file."""
    goal: dict
    row: str                 # the run name judged
    over: str                # the run name it is divided by, or None
    verdict: str
    why: str                 # for a goal not measured, what is missing; else ''
    sides: tuple = ()        # (Side of row, Side of over) or (Side of row,), where measured
    value: float = None      # the median ratio, or the median
    worst: float = None      # the worst and best ratio (or repetition), None when unknown
    best: float = None

    @property
    def unit(self):
        """'x' for a ratio, else the counter's unit."""
        return "x" if self.over else unit_of(self.goal["counter"])

    def shown(self, value):
        """A judged value or bound: a ratio with three digits (a bound of ×0.333 must not
        read as a ratio of ×0.33), a quantity in the counter's unit."""
        if value is None:
            return "—"
        return format_ratio(value, digits=3) if self.over else format_quantity(value, self.unit)

    def bound(self):
        """'≤ ×0.333', '≤ 4.30 KiB'."""
        return f"≤ {self.shown(self.goal['at_most'])}"

    def spread(self):
        """'×0.26–×0.28' from best to worst, '—' where unknown or not measured."""
        if self.best is None:
            return "—"
        return f"{self.shown(self.best)}–{self.shown(self.worst)}"


def _fields(pattern):
    return _FIELD.findall(pattern)


def load_goals(path):
    """The goals document at path, each goal's shape checked; GoalsError otherwise."""
    doc = read_document(path, "goals", GoalsError)
    if not isinstance(doc, dict) or not isinstance(doc.get("goals"), list):
        raise GoalsError(f"{path}: no \"goals\" list")
    ids = set()
    for i, goal in enumerate(doc["goals"]):
        where = f"{path}: goals[{i}]"
        if not isinstance(goal, dict):
            raise GoalsError(f"{where} is not an object")
        for key in _REQUIRED:
            if key not in goal:
                raise GoalsError(f"{where} has no \"{key}\"")
        where = f"{path}: goal {goal['id']}"
        unknown = sorted(set(goal) - set(_REQUIRED) - set(_OPTIONAL))
        if unknown:
            raise GoalsError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                             f"(a goal has {', '.join(_REQUIRED + _OPTIONAL)})")
        if goal["id"] in ids:
            raise GoalsError(f"{where}: a second goal with this id")
        ids.add(goal["id"])
        if results.counter_direction(goal["counter"]) != "lower":
            raise GoalsError(f"{where}: counter {goal['counter']} is not a lower-is-better counter "
                             "(docs/results-format.md): at_most cannot bound it")
        at_most = goal["at_most"]
        if isinstance(at_most, bool) or not isinstance(at_most, (int, float)) or not 0 < at_most < math.inf:
            raise GoalsError(f"{where}: at_most must be a positive number, not {at_most!r}")
        values = goal.get("for", {})
        if not isinstance(values, dict) or not all(
                isinstance(v, list) and v and all(isinstance(x, str) for x in v) for v in values.values()):
            raise GoalsError(f"{where}: for must map each field to a non-empty list of strings")
        patterns = [goal["row"]] + ([goal["over"]] if "over" in goal else [])
        used = {name for pattern in patterns for name in _fields(pattern)}
        undefined, unused = sorted(used - set(values)), sorted(set(values) - used)
        if undefined:
            raise GoalsError(f"{where}: unknown row pattern field {{{undefined[0]}}}: its for lists "
                             f"{', '.join(values) or 'no fields'}")
        if unused:
            raise GoalsError(f"{where}: for lists {unused[0]}, which neither row nor over uses")
    return doc


def instances(goal):
    """[(row, over or None)]: the goal's run names, once per combination of its for
    values (in the order for lists them)."""
    values = goal.get("for", {})
    names = list(values)
    found = []
    for combination in itertools.product(*(values[name] for name in names)):
        chosen = dict(zip(names, combination))

        def fill(pattern):
            return _FIELD.sub(lambda m: chosen[m.group(1)], pattern)
        found.append((fill(goal["row"]), fill(goal["over"]) if "over" in goal else None))
    return found


def _side(summaries, run_name, counter):
    """(Side, '') of one row's counter, or (None, why it is not measured)."""
    summary = summaries.get(run_name)
    if summary is None:
        return None, f"no row {run_name} in this file"
    figure = summary.figures.get(counter)
    if figure is None:
        return None, f"{run_name} has no {counter}"
    if not math.isfinite(figure.median) or figure.median <= 0:
        return None, f"{run_name}'s {counter} is {format_quantity(figure.median, unit_of(counter))}"
    values = [v for v in figure.values if math.isfinite(v)]
    low, high = (min(values), max(values)) if values else (None, None)
    return Side(run_name, figure.median, low, high, len(values)), ""


def judge(goal, summaries, row, over):
    """The Judgement of one instance of a goal on {run_name: RunSummary}."""
    counter = goal["counter"]
    found = [_side(summaries, name, counter) for name in (row, over) if name]
    missing = [why for side, why in found if side is None]
    if missing:
        return Judgement(goal, row, over, NOT_MEASURED, "; ".join(missing))
    sides = tuple(side for side, _ in found)
    if over:
        a, b = sides
        value = a.median / b.median
        known = a.low is not None and b.low is not None
        worst, best = (a.high / b.low, a.low / b.high) if known else (None, None)
    else:
        value, worst, best = sides[0].median, sides[0].high, sides[0].low
    at_most = goal["at_most"]
    if value > at_most:
        verdict = NOT_MET
    elif worst is None:
        verdict = MET_WORST_UNKNOWN
    else:
        verdict = MET if worst <= at_most else MET_NOT_AT_WORST
    return Judgement(goal, row, over, verdict, "", sides, value, worst, best)


def judge_all(goals_doc, summaries):
    """Every instance of every goal judged on {run_name: RunSummary}, in the file's order."""
    return [judge(goal, summaries, row, over) for goal in goals_doc["goals"] for row, over in instances(goal)]


def verdict_text(j):
    """The verdict as a table cell says it: 'not measured: no row X in this file'."""
    return f"{j.verdict}: {j.why}" if j.why else j.verdict


def summary_lines(judgements):
    """A few lines for the end of a bench_all run: the counts, then a line per instance
    judged (those not measured are only counted: a run of some entries lacks most rows)."""
    counts = [(sum(j.verdict == verdict for j in judgements), verdict) for verdict in VERDICTS]
    lines = ["goals (scripts/goals.json): " + ", ".join(f"{count} {verdict}" for count, verdict in counts if count)]
    for j in judgements:
        if j.verdict != NOT_MEASURED:
            name = f"{j.row} over {j.over}" if j.over else j.row
            lines.append(f"  {j.goal['id']}: {j.verdict}: {j.shown(j.value)} [{j.spread()}] {j.bound()}  ({name})")
    return lines


def record(j):
    """A Judgement as data, for `report --json`: the goal, rows, verdict, judged value with
    its best and worst, the bound, and each row's median and range."""
    return {"id": j.goal["id"], "row": j.row, "over": j.over, "counter": j.goal["counter"],
            "verdict": j.verdict, "why": j.why or None, "value": j.value, "best": j.best, "worst": j.worst,
            "at_most": j.goal["at_most"],
            "rows": [{"run": s.run_name, "median": s.median, "low": s.low, "high": s.high,
                      "repetitions": s.repetitions} for s in j.sides]}
