"""Judging one set of results against another, counter by counter, and writing the
verdicts as text, GitHub annotations, Markdown or JSON. scripts/compare judges two results
files (unpaired); bench_all --ab judges a base and a candidate measured in alternation on
one machine (paired). Both write through render().

A figure (a counter with a direction, results.counter_direction) is judged by the rules:
- an instruction count (results.is_instruction_count: deterministic under callgrind) is
  worse when its median moved the bad way by more than max(instructions threshold, K x the
  larger cv): no rank test, the count does not scatter;
- a timing, unpaired: worse when its median moved the bad way by more than max(threshold,
  K x the larger cv) and, with 3+ repetitions each, a one-sided Mann-Whitney U test agrees
  (p <= alpha); beyond the limit without that agreement it is noise;
- a timing, paired: the change is the median of the pairs' ratios candidate/base less 1;
  worse when it is beyond the threshold the bad way and a one-sided Wilcoxon signed-rank
  test on the pairs' log-ratios agrees (p <= alpha); else noise. The kernel's counts per
  operation (results.is_kernel_count: context switches, page faults) are reported, not
  judged: on a shared machine they follow its load.
Facts that differ are "mismatch": reported, never judged.

Invariant: status() is 1 exactly when some figure is worse, 3 when no run was in both
sets (nothing compared: a renamed entry must not pass silently), 0 otherwise.
"""

import json
import math
import statistics as pystats
from dataclasses import dataclass, field

from greenbench import results
from greenbench.units import format_percent, format_quantity, unit_of
from greenbench.utest import p_larger, p_positive

MIN_REPETITIONS_FOR_TEST = 3
VERDICT_WIDTH = 13  # "ONLY IN BASE" and a space
WORSE, BETTER, SAME, NOISE, MISMATCH, INFO, NOT_A_NUMBER = (
    "worse", "better", "same", "noise", "mismatch", "info", "n/a")
# Verdicts --changes-only hides: nothing moved, or nothing to judge.
UNCHANGED = frozenset({SAME, INFO})
EXIT_OK, EXIT_WORSE, EXIT_NOTHING_COMPARED = 0, 1, 3


@dataclass(frozen=True)
class Rules:
    """How far a figure may move before it counts, and how sure a rank test must be."""
    threshold: float = 0.10               # timings: smallest change that can count, a fraction
    instructions_threshold: float = 0.01  # instruction counts: the same
    noise_factor: float = 3.0             # unpaired: the limit is at least K x the larger cv
    alpha: float = 0.05                   # the rank tests' significance


@dataclass
class Change:
    """One counter of one run, base against new, and what to make of it."""
    run_name: str
    counter: str
    base: object             # results.Figure, or None when only new has the counter
    new: object              # results.Figure, or None when only base has it
    verdict: str
    change: float = math.nan  # (new - base) / |base|; paired: median ratio - 1
    limit: float = math.nan   # the change, as a fraction, the verdict allowed
    p: float = math.nan       # the rank test's p-value, when it ran
    test: str = ""            # "U test" or "signed-rank", when one ran


@dataclass
class Comparison:
    """Every change of a comparison and what surrounds it."""
    base_label: str          # e.g. "base.json (alpha, 1a2b3c4)"
    new_label: str
    changes: list
    only_base: list          # run names only the base has
    only_new: list
    notes: list = field(default_factory=list)  # lines said before the summary
    paired: bool = False

    def status(self):
        if any(c.verdict == WORSE for c in self.changes):
            return EXIT_WORSE
        if not self.changes:
            return EXIT_NOTHING_COMPARED
        return EXIT_OK


def _relative_change(base, new):
    if base:
        return (new - base) / abs(base)
    return 0.0 if new == 0 else math.copysign(math.inf, new)


def _fact_verdict(base, new):
    same = base.median == new.median or (math.isnan(base.median) and math.isnan(new.median))
    return SAME if same else MISMATCH


def judge(counter, base, new, rules):
    """The unpaired verdict on one counter: (verdict, change, limit, p, test)."""
    if results.is_fact(counter):
        return _fact_verdict(base, new), math.nan, math.nan, math.nan, ""
    if not (math.isfinite(base.median) and math.isfinite(new.median)):
        return NOT_A_NUMBER, math.nan, math.nan, math.nan, ""
    change = _relative_change(base.median, new.median)
    direction = results.counter_direction(counter)
    if direction is None:
        return INFO, change, math.nan, math.nan, ""
    instructions = results.is_instruction_count(counter)
    floor = rules.instructions_threshold if instructions else rules.threshold
    cvs = [abs(f.cv) for f in (base, new) if math.isfinite(f.cv)]
    limit = max([floor] + [rules.noise_factor * cv for cv in cvs])
    if abs(change) <= limit:
        return SAME, change, limit, math.nan, ""
    got_worse = (change > 0) == (direction == "lower")
    if not instructions and min(len(base.values), len(new.values)) >= MIN_REPETITIONS_FOR_TEST:
        smaller, larger = (base, new) if change > 0 else (new, base)
        p = p_larger(smaller.values, larger.values)
        if p > rules.alpha:
            return NOISE, change, limit, p, "U test"
        return (WORSE if got_worse else BETTER), change, limit, p, "U test"
    return (WORSE if got_worse else BETTER), change, limit, math.nan, ""


def judge_paired(counter, base, new, rules):
    """The paired verdict on one counter whose base.values[i] and new.values[i] were
    measured side by side: (verdict, change, limit, p, test)."""
    if results.is_fact(counter):
        return _fact_verdict(base, new), math.nan, math.nan, math.nan, ""
    pairs = [(b, n) for b, n in zip(base.values, new.values) if math.isfinite(b) and math.isfinite(n)]
    if not pairs or len(base.values) != len(new.values):
        return NOT_A_NUMBER, math.nan, math.nan, math.nan, ""
    direction = results.counter_direction(counter)
    if results.is_kernel_count(counter):
        direction = None  # the machine's load decides them as much as the code: reported only
    if any(b <= 0 or n <= 0 for b, n in pairs):  # no ratio: judge the medians as unpaired
        return judge(counter, base, new, rules) if direction else (INFO, math.nan, math.nan, math.nan, "")
    log_ratios = [math.log(n / b) for b, n in pairs]
    change = math.exp(pystats.median(log_ratios)) - 1.0
    if direction is None:
        return INFO, change, math.nan, math.nan, ""
    instructions = results.is_instruction_count(counter)
    limit = rules.instructions_threshold if instructions else rules.threshold
    if abs(change) <= limit:
        return SAME, change, limit, math.nan, ""
    got_worse = (change > 0) == (direction == "lower")
    if instructions:
        return (WORSE if got_worse else BETTER), change, limit, math.nan, ""
    p = p_positive(log_ratios if change > 0 else [-r for r in log_ratios])
    verdict = NOISE if p > rules.alpha else (WORSE if got_worse else BETTER)
    return verdict, change, limit, p, "signed-rank"


def compare_summaries(base_summaries, new_summaries, rules, wanted=lambda name: True, paired=False):
    """([Change] for every counter of the runs both have, run names only in base, only in
    new), over the runs `wanted` accepts."""
    base_names = [name for name in base_summaries if wanted(name)]
    new_names = [name for name in new_summaries if wanted(name)]
    judge_one = judge_paired if paired else judge
    changes = []
    for name in base_names:
        if name not in new_summaries:
            continue
        base_figures = base_summaries[name].figures
        new_figures = new_summaries[name].figures
        for counter in dict.fromkeys(list(base_figures) + list(new_figures)):
            base, new = base_figures.get(counter), new_figures.get(counter)
            if base is None or new is None:
                changes.append(Change(name, counter, base, new, "only in " + ("new" if base is None else "base")))
                continue
            changes.append(Change(name, counter, base, new, *judge_one(counter, base, new, rules)))
    only_base = [name for name in base_names if name not in new_summaries]
    only_new = [name for name in new_names if name not in base_summaries]
    return changes, only_base, only_new


# ---- writing it ----------------------------------------------------------------------

def _values(c):
    unit = unit_of(c.counter)
    return (format_quantity(c.base.median if c.base else None, unit),
            format_quantity(c.new.median if c.new else None, unit))


def _details(c):
    details = []
    if not math.isnan(c.limit):
        details.append(f"limit ±{c.limit * 100:.1f}%")
    if not math.isnan(c.p):
        details.append(f"{c.test} p={c.p:.3g}")
    return details


def describe(c):
    """'259 ns → 518 ns  +100.1%  (limit ±10.0%, U test p=0.004)' for one change."""
    base, new = _values(c)
    parts = [f"{base} → {new}"]
    if not math.isnan(c.change):
        parts.append(format_percent(c.change))
    if _details(c):
        parts.append(f"({', '.join(_details(c))})")
    return "  ".join(parts)


def _tally(comparison):
    """(figures, facts, others): the changes of each kind."""
    figures = [c for c in comparison.changes if results.counter_direction(c.counter)]
    facts = [c for c in comparison.changes if results.is_fact(c.counter)]
    others = [c for c in comparison.changes if c not in figures and c not in facts]
    return figures, facts, others


def counts(comparison):
    """{verdict: how many} over the figures, and the facts' and others' counts."""
    figures, facts, others = _tally(comparison)

    def count(subset, verdicts):
        found = [c.verdict for c in subset]
        shown = {v: found.count(v) for v in verdicts}
        shown.update({v: found.count(v) for v in dict.fromkeys(found) if v not in verdicts})
        return shown

    return {"runs": len({c.run_name for c in comparison.changes}),
            "figures": count(figures, (WORSE, BETTER, SAME, NOISE)),
            "facts": count(facts, (MISMATCH,)),
            "other_counters": count(others, ()),
            "only_base": len(comparison.only_base), "only_new": len(comparison.only_new)}


def result_line(comparison):
    status = comparison.status()
    if status == EXIT_WORSE:
        return f"FAILED: {sum(1 for c in comparison.changes if c.verdict == WORSE)} figure(s) worse"
    if status == EXIT_NOTHING_COMPARED:
        return "NOTHING COMPARED: no run is in both"
    return "OK: nothing worse"


def summary_line(comparison, tool="compare"):
    """The last line: what was compared, the count of each verdict, and the result."""
    tallied = counts(comparison)

    def shown(verdicts):
        return ", ".join(f"{n} {v}" for v, n in verdicts.items())

    figures, facts, others = _tally(comparison)
    parts = [f"{tool}: {comparison.base_label} → {comparison.new_label}",
             f"{tallied['runs']} common runs",
             f"{len(figures)} figures: {shown(tallied['figures'])}",
             f"{len(facts)} facts: {shown(tallied['facts'])}"]
    if others:
        parts.append(f"{len(others)} other counters: {shown(tallied['other_counters'])}")
    parts.append(f"{tallied['only_base']} runs only in base, {tallied['only_new']} only in new")
    return "; ".join(parts) + f". {result_line(comparison)}"


def _shown(comparison, changes_only):
    return [c for c in comparison.changes if not (changes_only and c.verdict in UNCHANGED)]


def render_text(comparison, changes_only=False, github=False, tool="compare"):
    """Lines: a line per change, the runs in one set only, notes, the summary; with
    github, ::error / ::warning annotations for a GitHub Actions log."""
    shown = _shown(comparison, changes_only)
    name_width = max([len(c.run_name) for c in shown] + [0])
    counter_width = max([len(c.counter) for c in shown] + [0])
    lines = []
    for c in shown:
        lines.append(f"{c.verdict.upper():<{VERDICT_WIDTH}}{c.run_name:<{name_width}}  "
                     f"{c.counter:<{counter_width}}  {describe(c)}")
        if github and c.verdict == WORSE:
            lines.append(f"::error title=greenbench: {c.counter} worse::{c.run_name} {c.counter}: {describe(c)}")
        elif github and c.verdict == MISMATCH:
            lines.append(f"::warning title=greenbench: {c.counter} changed::{c.run_name} {c.counter}: "
                         f"{describe(c)} (the runs did different work)")
    lines += [f"{'ONLY BASE':<{VERDICT_WIDTH}}{name}" for name in comparison.only_base]
    lines += [f"{'ONLY NEW':<{VERDICT_WIDTH}}{name}" for name in comparison.only_new]
    if github and comparison.status() == EXIT_NOTHING_COMPARED:
        lines.append("::error title=greenbench: nothing compared::no run is in both result sets")
    lines += [f"{tool}: note: {note}" for note in comparison.notes]
    lines.append(summary_line(comparison, tool))
    return lines


def _cell(text):
    return str(text).replace("|", "\\|")


def render_markdown(comparison, changes_only=False, tool="compare"):
    """Lines of a Markdown comment: a heading with the result, the summary, a table of the
    changes (worse first), the runs in one set only and the notes."""
    order = {WORSE: 0, MISMATCH: 1, BETTER: 2, NOISE: 3}
    shown = sorted(_shown(comparison, changes_only), key=lambda c: order.get(c.verdict, 4))
    lines = [f"### greenbench {tool}: {result_line(comparison)}", "",
             _cell(summary_line(comparison, tool)), ""]
    if shown:
        lines += ["| verdict | run | counter | base | new | change | limit, test |",
                  "|---|---|---|---|---|---|---|"]
        for c in shown:
            base, new = _values(c)
            change = "" if math.isnan(c.change) else format_percent(c.change)
            verdict = f"**{c.verdict}**" if c.verdict == WORSE else c.verdict
            lines.append("| " + " | ".join(_cell(x) for x in (
                verdict, f"`{c.run_name}`", f"`{c.counter}`", base, new, change, ", ".join(_details(c)))) + " |")
        lines.append("")
    elif changes_only:
        lines += ["No figure moved beyond its limit.", ""]
    for title, names in (("Only in base", comparison.only_base), ("Only in new", comparison.only_new)):
        if names:
            lines += [f"{title}: " + ", ".join(f"`{n}`" for n in names), ""]
    lines += [f"Note: {_cell(note)}" for note in comparison.notes]
    return lines


def _number(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def as_json(comparison, changes_only=False, tool="compare"):
    """The comparison as a JSON-ready dict (NaN and infinities as null)."""
    changes = []
    for c in _shown(comparison, changes_only):
        changes.append({"run_name": c.run_name, "counter": c.counter, "verdict": c.verdict,
                        "base_median": _number(c.base.median) if c.base else None,
                        "new_median": _number(c.new.median) if c.new else None,
                        "base_values": [_number(v) for v in c.base.values] if c.base else [],
                        "new_values": [_number(v) for v in c.new.values] if c.new else [],
                        "change": _number(c.change), "limit": _number(c.limit),
                        "p": _number(c.p), "test": c.test or None})
    return {"tool": tool, "base": comparison.base_label, "new": comparison.new_label,
            "paired": comparison.paired, "status": comparison.status(),
            "result": result_line(comparison), "counts": counts(comparison), "changes": changes,
            "only_base": comparison.only_base, "only_new": comparison.only_new,
            "notes": comparison.notes}


FORMATS = ("text", "github", "markdown", "json")


def render(comparison, fmt="text", changes_only=False, tool="compare"):
    """The comparison in one of FORMATS, as one string."""
    if fmt == "json":
        return json.dumps(as_json(comparison, changes_only, tool), indent=2, ensure_ascii=False)
    if fmt == "markdown":
        return "\n".join(render_markdown(comparison, changes_only, tool))
    return "\n".join(render_text(comparison, changes_only, github=fmt == "github", tool=tool))
