"""PNG plots for the report: lines of a figure against N, and grouped bars.

The report computes what to draw; this module only draws it. Invariants: matplotlib is
imported here only, when a plot is asked for, with the Agg backend; axes turn
logarithmic where the values span a decade or more, or where the caller asks (log_x);
images are saved without the Software (matplotlib version) metadata, so the same results
draw byte-identical PNGs.
"""

_RATIO_FOR_LOG = 10.0  # max/min from which an axis is drawn logarithmic: a decade


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
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) / min(positive) >= _RATIO_FOR_LOG


def _save(pyplot, figure, path):
    """Save without metadata that changes between matplotlib versions, then close."""
    figure.tight_layout()
    figure.savefig(path, dpi=100, metadata={"Software": None})
    pyplot.close(figure)


def line_plot(path, title, xlabel, ylabel, series, log_x=False):
    """Lines of y against x, one per series: {label: [(x, y), ...]}; x logarithmic when
    log_x or when it spans a decade."""
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(figsize=(8, 5))
    for label, points in series.items():
        xs, ys = zip(*sorted(points))
        axes.plot(xs, ys, marker="o", label=label)
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    if log_x or _spans_decades(xs):
        axes.set_xscale("log")
    if _spans_decades(ys):
        axes.set_yscale("log")
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    _save(pyplot, figure, path)


def bar_plot(path, title, ylabel, groups):
    """Grouped bars: {group: {bar label: value}}; one colour per bar label."""
    pyplot = _pyplot()
    labels = list(dict.fromkeys(label for bars in groups.values() for label in bars))
    figure, axes = pyplot.subplots(figsize=(max(6, 1.2 * len(groups) * len(labels) / 2), 5))
    width = 0.8 / len(labels)
    for i, label in enumerate(labels):
        positions = [g + i * width for g, bars in enumerate(groups.values()) if label in bars]
        heights = [bars[label] for bars in groups.values() if label in bars]
        axes.bar(positions, heights, width, label=label)
    axes.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))], list(groups))
    if _spans_decades([v for bars in groups.values() for v in bars.values()]):
        axes.set_yscale("log")
    axes.set(title=title, ylabel=ylabel)
    axes.grid(True, axis="y", which="both", alpha=0.3)
    axes.legend(fontsize="small")
    _save(pyplot, figure, path)
