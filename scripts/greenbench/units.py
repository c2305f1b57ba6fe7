"""Units of greenbench's counters, and how their values are written for people.

The unit is read from the counter's name, as the format doc's naming promises (`ns`,
`us`, `ms`, `bytes` or `instructions` as a word of the name, seconds, counts, speedup,
*_per_second rates). Invariant: the report and compare write
every value through format_quantity() and every ratio through format_ratio(), so one
figure reads the same everywhere; values keep three significant digits.
"""

import math

_TIME_STEPS = ((1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns"))
_BYTE_STEPS = ((2.0 ** 40, "TiB"), (2.0 ** 30, "GiB"), (2.0 ** 20, "MiB"), (2.0 ** 10, "KiB"),
               (1.0, "B"))
_COUNTS = frozenset({"max_tasks", "tasks_in_8GiB", "tasks", "tasks_alive", "switches", "messages",
                     "map_count", "sum", "max_conns", "requests", "conns", "client_threads",
                     "nofile_limit", "peak_live_tasks", "stacks_peak_in_use", "stacks_mapped",
                     "stack_allocations", "stacks_decommitted", "task_blocks_decommitted",
                     "parked_stacks_trimmed",
                     "unguarded_stacks", "steals", "ticks", "ticks_missed", "ticks_expected",
                     "gc_runs_until_settled"})


def unit_of(counter):
    """'ns', 'us', 'ms', 's', 'bytes', 'instructions', 'count', '/s' (a rate), 'x' (a ratio) or
    '' (unknown) for a counter name."""
    words = counter.split("_")
    for unit in ("ns", "us", "ms", "bytes", "instructions"):
        if unit in words:
            return unit
    if counter == "seconds":
        return "s"
    if counter in _COUNTS:
        return "count"
    if counter.endswith("_per_second"):
        return "/s"
    if counter == "speedup":
        return "x"
    return ""


def _three_digits(x):
    """x with three significant digits and no exponent (|x| below 1000)."""
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _scaled(value, steps):
    """value in the largest unit of steps it reaches, e.g. '15.2 µs'."""
    for scale, name in steps:
        if abs(value) >= scale:
            return f"{_three_digits(value / scale)} {name}"
    return f"{_three_digits(value / steps[-1][0])} {steps[-1][1]}"


def format_quantity(value, unit):
    """A value of the given unit for people: '15.2 µs', '8.00 MiB', '32,749', '52,512/s',
    '×2.5', '1,204.5 instr'."""
    if value is None:
        return "—"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if unit in ("ns", "us", "ms", "s"):
        to_ns = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]
        return _scaled(value * to_ns, _TIME_STEPS)
    if unit == "bytes":
        return _scaled(value, _BYTE_STEPS)
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "instructions":  # per operation, where a 1% change is news: one decimal
        return f"{value:,.1f} instr"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "x":
        return format_ratio(value)
    shown = f"{value:.4g}"
    if "e" in shown and abs(value) < 1:  # a small rate per operation: 0.000006, not 6e-06
        shown = f"{value:.7f}".rstrip("0").rstrip(".")
    return shown


def format_ratio(ratio, digits=2):
    """A ratio as '×67', '×2.9', '×0.017', '×1,200': `digits` significant digits below
    ×100 (3 where a ratio is set against a bound: ×0.334 is not within ×0.333)."""
    if ratio is None:
        return "—"
    if math.isnan(ratio) or math.isinf(ratio):
        return f"×{ratio}"
    if ratio >= 100:
        return f"×{ratio:,.0f}"
    if ratio >= 10:
        return f"×{ratio:.{digits - 2}f}"
    if ratio >= 1:
        return f"×{ratio:.{digits - 1}f}"
    return f"×{ratio:.{digits}g}"


def format_percent(fraction):
    """A fraction as a signed percentage: '+101.5%', '-3.2%'."""
    if math.isnan(fraction) or math.isinf(fraction):
        return f"{fraction * 100:+}%"
    return f"{fraction * 100:+.1f}%"
