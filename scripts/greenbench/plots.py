"""PNG plots for the report: figures against N in small multiples, dot plots of one
figure per runtime, and annotated bars.

The report computes what to draw (Series and Point, below); this module only draws it.
Invariants: every runtime keeps one colour and one marker in every plot (STYLES), and
its configurations differ by line style; a point shows the median and, where the
repetitions are known, their range as an error bar; logarithmic scales are used on lines
and points only, never on bars; legends sit outside the data; in small multiples on a
logarithmic x axis, each series is shifted 12% sideways from the one before, so
identical series do not hide each other; each image carries a
caption naming its host, commit and date; matplotlib is imported here only, when a plot
is asked for, with the Agg backend; images are saved without the Software (matplotlib
version) metadata, so the same results draw byte-identical PNGs.
"""

from dataclasses import dataclass, field

from .units import format_quantity

_RATIO_FOR_LOG = 10.0  # max/min from which an axis is drawn logarithmic: a decade

# runtime -> (colour, marker), the same in every plot; unknown runtimes get grey.
STYLES = {
    "fiber": ("#1b9e77", "o"),
    "go": ("#1f78b4", "s"),
    "boost_fiber": ("#d95f02", "^"),
    "std_thread": ("#e7298a", "v"),
    "pthread": ("#7570b3", "D"),
    "python_thread": ("#a6761d", "P"),
    "python_process": ("#666666", "X"),
    "epoll": ("#000000", "*"),
}
_OTHER = ("#999999", "h")
_LINE_STYLES = ("-", "--", ":", "-.")
# Small multiples: one panel per family of runtimes, in this order.
PANELS = (("our fibers", ("fiber",)), ("Go", ("go",)), ("Boost.Fiber", ("boost_fiber",)),
          ("OS threads", ("std_thread", "pthread", "python_thread", "python_process")),
          ("event loop", ("epoll",)))


@dataclass
class Point:
    """One figure: its median and, where known, the range of its repetitions. A marked
    point is drawn hollow (e.g. an echo run whose load generator was saturated)."""
    x: float
    y: float
    low: float = None
    high: float = None
    marked: bool = False


@dataclass
class Series:
    """A runtime configuration's points; `runtime` picks its colour and marker."""
    label: str
    runtime: str
    points: list = field(default_factory=list)


def missing_reason():
    """None when matplotlib can be imported, else why it cannot."""
    try:
        import matplotlib  # noqa: F401  (only asks whether it is there)
    except ImportError as e:
        return f"matplotlib is not installed ({e}); apt-get install python3-matplotlib"
    return None


def _pyplot():
    """matplotlib.pyplot with the Agg backend, which needs no display."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def _spans_decades(values):
    """True when the positive values span a decade or more."""
    positive = [v for v in values if v is not None and v > 0]
    return bool(positive) and max(positive) / min(positive) >= _RATIO_FOR_LOG


def _format_axis(axis, unit, log):
    """Ticks written in the unit for people (ns/µs, KiB/MiB); on a linear axis of bytes,
    placed at round numbers of KiB."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    axis.set_major_formatter(FuncFormatter(lambda value, _: format_quantity(value, unit) if value > 0 else "0"))
    if unit == "bytes" and not log:
        class KiBLocator(MaxNLocator):
            def tick_values(self, vmin, vmax):
                return [v * 1024 for v in super().tick_values(vmin / 1024, vmax / 1024)]
        axis.set_major_locator(KiBLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))


def _shade(colour, k):
    """The runtime's colour for its k-th configuration: lightened a step per two."""
    mix = min(0.6, 0.2 * (k // 2))
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * mix):02x}" for c in rgb)


def _styles(series, hollow):
    """{label: (colour, marker, line style, marker face)}: the runtime's colour (a shade
    of it) and marker, its configurations told apart by line style, shade and, where
    hollow, by filled or hollow markers in the order they come."""
    seen, styles = {}, {}
    for s in series:
        colour, marker = STYLES.get(s.runtime, _OTHER)
        k = seen.get(s.runtime, 0)
        seen[s.runtime] = k + 1
        shade = _shade(colour, k)
        styles[s.label] = (shade, marker, _LINE_STYLES[k % len(_LINE_STYLES)], shade if k % 2 == 0 or not hollow else "white")
    return styles


def _errors(points):
    """The error bars of points, as matplotlib's [[below], [above]], or None if unknown."""
    if any(p.low is None or p.high is None for p in points):
        return None
    return [[max(p.y - p.low, 0) for p in points], [max(p.high - p.y, 0) for p in points]]


def _save(pyplot, figure, path, caption):
    """Caption above the title, save without metadata that changes between matplotlib
    versions, then close."""
    figure.text(0.0, 1.0, caption, fontsize=7, color="#555555", ha="left", va="bottom",
                transform=figure.transFigure)
    figure.savefig(path, dpi=100, metadata={"Software": None}, bbox_inches="tight")
    pyplot.close(figure)


def _draw_series(axes, series, styles, dodge):
    """Lines with markers and error bars; marked points hollow on top. With dodge, each
    series is shifted sideways by 12% of x more than the one before, so series
    with the same values (std_thread and pthread) stay visible side by side."""
    for k, s in enumerate(series):
        colour, marker, line, face = styles[s.label]
        points = sorted(s.points, key=lambda p: p.x)
        shift = 1.12 ** k if dodge else 1.0
        xs, ys = [p.x * shift for p in points], [p.y for p in points]
        axes.errorbar(xs, ys, yerr=_errors(points), color=colour, marker=marker, linestyle=line,
                      markerfacecolor=face, markersize=5, capsize=2, linewidth=1.3, label=s.label)
        hollow = [p for p in points if p.marked]
        if hollow:
            axes.plot([p.x * shift for p in hollow], [p.y for p in hollow], linestyle="none", marker=marker,
                      markersize=11, markerfacecolor="none", markeredgecolor=colour)


def lines(path, title, xlabel, ylabel, unit, series, caption, log_x=False, panels=True, note=None):
    """Figures against x, one line per series with its spread as error bars: in small
    multiples by family of runtimes (panels, sharing the y axis) or on one axis. Axes turn
    logarithmic where the values span a decade or more, or x where log_x asks."""
    pyplot = _pyplot()
    groups = ([(name, [s for s in series if s.runtime in runtimes]) for name, runtimes in PANELS]
              if panels else [("", series)])
    known = {r for _, runtimes in PANELS for r in runtimes}
    if panels and any(s.runtime not in known for s in series):
        groups.append(("other", [s for s in series if s.runtime not in known]))
    groups = [(name, members) for name, members in groups if members]
    styles = _styles(series, hollow=panels)  # alone on an axis, a hollow marker means "marked"
    figure, axes_row = pyplot.subplots(1, len(groups), figsize=(4.2 * len(groups) + 1, 4.6),
                                       sharey=True, squeeze=False)
    xs = [p.x for s in series for p in s.points]
    ys = [v for s in series for p in s.points for v in (p.y, p.low, p.high)]
    log_x = log_x or _spans_decades(xs)
    for axes, (name, members) in zip(axes_row[0], groups):
        _draw_series(axes, members, styles, dodge=log_x and panels)
        if log_x:
            axes.set_xscale("log")
        if _spans_decades(ys):
            axes.set_yscale("log")
        _format_axis(axes.yaxis, unit, _spans_decades(ys))
        if not log_x and all(float(x).is_integer() for x in xs) and len(set(xs)) <= 16:
            axes.set_xticks(sorted(set(xs)))  # counts (workers): no ticks between them
            _format_axis(axes.xaxis, "count", False)  # written out: one N of 1,000,000 read "1" and "1e6"
        axes.set(title=name, xlabel=xlabel)
        axes.grid(True, which="major", alpha=0.3)
        axes.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False)
    axes_row[0][0].set_ylabel(ylabel)
    figure.suptitle(title + (f"\n{note}" if note else ""), fontsize=11)
    if note and panels:
        figure.subplots_adjust(top=0.8)  # the title's second line clear of the panels' titles
    _save(pyplot, figure, path, caption)


def dots(path, title, xlabel, unit, rows, caption):
    """One figure per runtime configuration as a dot with its range, rows grouped by case:
    rows is [(case, label, runtime, Point)]; x logarithmic where the values span a decade
    (points, never bars)."""
    pyplot = _pyplot()
    cases = list(dict.fromkeys(case for case, *_ in rows))
    figure, axes = pyplot.subplots(figsize=(9, 0.28 * len(rows) + 0.5 * len(cases) + 1.2))
    y, ticks, labels = 0, [], []
    for case in cases:
        for c, label, runtime, point in rows:
            if c != case:
                continue
            colour, marker = STYLES.get(runtime, _OTHER)
            xerr = None if point.low is None else [[max(point.y - point.low, 0)], [max(point.high - point.y, 0)]]
            axes.errorbar([point.y], [y], xerr=xerr, color=colour, marker=marker, markersize=6, capsize=2)
            axes.annotate(format_quantity(point.y, unit), (point.y, y), xytext=(6, 3),
                          textcoords="offset points", fontsize=7, color=colour)
            ticks.append(y)
            labels.append(label)
            y -= 1
        axes.axhline(y + 0.5, color="#cccccc", linewidth=0.8)
        axes.text(1.01, y + 1 + (len([r for r in rows if r[0] == case]) - 1) / 2, case, fontsize=8,
                  transform=axes.get_yaxis_transform(), va="center", ha="left", color="#333333")
        y -= 0.5
    axes.set_yticks(ticks, labels, fontsize=8)
    values = [v for *_, p in rows for v in (p.y, p.low, p.high)]
    if _spans_decades(values):
        axes.set_xscale("log")
    _format_axis(axes.xaxis, unit, _spans_decades(values))
    axes.set(title=title, xlabel=xlabel)
    axes.grid(True, axis="x", which="major", alpha=0.3)
    _save(pyplot, figure, path, caption)


def bars(path, title, xlabel, unit, rows, caption):
    """Horizontal bars on a linear axis, each annotated with its value and a note (what
    stopped a max-count run): rows is [(label, runtime, value, note)]."""
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(figsize=(9, 0.35 * len(rows) + 1.4))
    positions = list(range(len(rows)))[::-1]
    top = max(value for _, _, value, _ in rows)
    for y, (label, runtime, value, note) in zip(positions, rows):
        colour, _ = STYLES.get(runtime, _OTHER)
        axes.barh(y, value, color=colour, height=0.7)
        text = format_quantity(value, unit) + (f" · {note}" if note else "")
        axes.text(value + top * 0.01, y, text, va="center", fontsize=8)
    axes.set_yticks(positions, [label for label, *_ in rows], fontsize=8)
    axes.set_xlim(0, top * 1.35)
    _format_axis(axes.xaxis, unit, False)
    axes.set(title=title, xlabel=xlabel)
    axes.grid(True, axis="x", alpha=0.3)
    _save(pyplot, figure, path, caption)
