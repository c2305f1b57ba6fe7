"""Results files: read, check, summarise, merge and write greenbench's JSON.

The one place that knows the results format (docs/results-format.md: Google Benchmark's
JSON, entries named workload/runtime/param:value..., plus context.greenbench). Every
script reads and writes results through this module.

Invariants: load() hands out only documents that passed _check(): a dict whose
"context" is a dict and whose "benchmarks" is a list of entries, each with a string
name and run_name and a run_type of "iteration" or "aggregate" (an aggregate with its
aggregate_name). write_atomic() leaves either the previous file or the complete new one,
never a truncated file. statistics() computes exactly what Google Benchmark 1.7.1's
statistics.cc computes, so aggregates this module adds equal the ones it writes.
"""

import copy
import fnmatch
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field


class ResultsError(Exception):
    """A results file that cannot be read, or is not in greenbench's format."""


# The aggregates Google Benchmark writes for each run, in the order a file lists them.
AGGREGATE_ORDER = ("median", "mean", "stddev", "cv")

# Keys of an entry that are not counters (Google Benchmark 1.7.1's JSON reporter).
ENTRY_KEYS = frozenset({
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "aggregate_name", "aggregate_unit",
    "iterations", "real_time", "cpu_time", "time_unit", "label", "error_occurred",
    "error_message", "big_o", "rms", "complexity", "allocs_per_iter", "max_bytes_used",
})

# The Direction paragraph of the format doc: `ns`, `ms`, `bytes` or `instructions` as a
# word of the name (`ns_per_task`, `server_cpu_ns_per_request`, `bytes_per_task`,
# `instructions_per_switch`) or `seconds` is a cost,
# lower-is-better; the named ones below are higher-is-better, or facts whatever their name.
HIGHER_IS_BETTER = frozenset({"max_tasks", "tasks_in_8GiB", "speedup", "requests_per_second",
                              "max_conns", "largest_stack_bytes", "ticks", "hog_work_per_second",
                              "round_trips_per_second", "blocking_calls_per_second"})
FACT_COUNTERS = frozenset({"tasks", "sum", "tasks_alive", "switches", "messages", "map_count", "requests",
                           "conns", "request_bytes", "client_threads", "nofile_limit",
                           "max_stack_bytes", "frame_bytes_reached", "threads", "gc_cycles_per_run",
                           "offered_per_second", "client_run_queue_fraction", "server_cpus",
                           "client_cpus", "cpu_sets_disjoint", "ticks_expected",
                           "peak_live_tasks", "stacks_peak_in_use", "stacks_mapped",
                           "stack_allocations", "stacks_decommitted", "task_blocks_decommitted",
                           "parked_stacks_trimmed", "parked_bytes_released",
                           "unguarded_stacks", "steals", "stack_guard", "gc_runs_until_settled"})
_LOWER_IS_BETTER = re.compile(r"(^|_)(ns|us|ms|bytes|instructions)(_|$)|^seconds$|_(switches|faults)_per_op$|^ticks_missed$")

# Runtime ids in the order of the format doc's table, with the parameters each takes.
# A name lists runtime parameters first; the first parameter that is not one of its
# runtime's starts the workload parameters.
# `cpuset:K` (any runtime but the echo servers): the whole process ran on K CPUs.
RUNTIME_PARAMETERS = {
    "fiber": ("workers", "stack", "cpuset"),
    "std_thread": ("cpus", "cpuset"),
    "pthread": ("stack", "cpus", "cpuset"),
    "boost_fiber": ("sched", "workers", "alloc", "cpuset"),
    "go": ("procs", "gogc", "cpuset"),
    "epoll": ("loops",),
    "python_thread": ("workers",),
    "python_process": ("workers",),
}


def load(path):
    """The results document in the file at path; ResultsError naming the file and the
    fault when it cannot be read, is not JSON, or is not a results file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ResultsError(f"{path}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not a results file: not UTF-8 text") from None
    if not text.strip():
        raise ResultsError(f"{path}: empty file (an interrupted run leaves one)")
    try:
        doc = json.loads(text)  # accepts the bare NaN, Infinity tokens Google Benchmark writes
    except json.JSONDecodeError as e:
        raise ResultsError(
            f"{path}: not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
            " (a truncated file is what an interrupted run leaves)") from None
    _check(doc, path)
    return doc


def _check(doc, source):
    """Raise ResultsError unless doc has the shape the module's invariant promises."""
    if not isinstance(doc, dict):
        raise ResultsError(f"{source}: not a results file: the top level is a JSON "
                           f"{type(doc).__name__}, not an object with context and benchmarks")
    for key, kind in (("context", dict), ("benchmarks", list)):
        if key not in doc:
            found = ", ".join(sorted(doc)[:8]) or "none"
            raise ResultsError(f'{source}: not a results file: no "{key}" key '
                               f"(keys found: {found})")
        if not isinstance(doc[key], kind):
            raise ResultsError(f'{source}: not a results file: "{key}" is not a JSON '
                               f"{'object' if kind is dict else 'array'}")
    if not isinstance(doc["context"].get("greenbench", {}), dict):
        raise ResultsError(f'{source}: "context.greenbench" is not a JSON object')
    for i, entry in enumerate(doc["benchmarks"]):
        where = f"{source}: benchmarks[{i}]"
        if not isinstance(entry, dict):
            raise ResultsError(f"{where} is not a JSON object")
        if not isinstance(entry.get("name"), str):
            raise ResultsError(f'{where} has no "name"')
        where += f' ("{entry["name"]}")'
        for key in ("run_name", "run_type"):
            if not isinstance(entry.get(key), str):
                raise ResultsError(f'{where} has no "{key}"')
        if entry["run_type"] not in ("iteration", "aggregate"):
            raise ResultsError(f'{where} has run_type "{entry["run_type"]}", '
                               'not "iteration" or "aggregate"')
        if entry["run_type"] == "aggregate" and not isinstance(entry.get("aggregate_name"), str):
            raise ResultsError(f'{where} is an aggregate without "aggregate_name"')


def counters_of(entry):
    """{counter: value}: the entry's top-level numeric keys that are not Google Benchmark's own."""
    return {key: value for key, value in entry.items()
            if key not in ENTRY_KEYS and isinstance(value, (int, float))
            and not isinstance(value, bool)}


def counter_direction(name):
    """'lower' or 'higher' (is better) for a figure, None for a fact or an unknown counter."""
    if name in HIGHER_IS_BETTER:
        return "higher"
    if name not in FACT_COUNTERS and _LOWER_IS_BETTER.search(name):
        return "lower"
    return None


def is_kernel_count(name):
    """True for the kernel's count of events per operation (voluntary_switches_per_op,
    minor_faults_per_op...): lower is better, but a busy machine moves them too."""
    return re.search(r"_(switches|faults)_per_op$", name) is not None


def is_instruction_count(name):
    """True for a count of instructions (`instructions_per_task`...): deterministic under
    callgrind, so judged with a tight threshold rather than a timing's noise model."""
    return name.split("_")[0] == "instructions"


def is_fact(name):
    """True for a counter that states what was done (tasks, sum...), not how well."""
    return name in FACT_COUNTERS


def statistics(values):
    """{'median', 'mean', 'stddev', 'cv'} of a non-empty list, as Google Benchmark 1.7.1
    computes them: a sequential sum; the median of fewer than 3 values is their mean, of
    an even count the mean of the two middle ones; stddev from the mean of squares with
    n-1; cv = stddev / mean, a fraction (0 for a single value)."""
    n = len(values)
    total = 0.0
    squares = 0.0
    for v in values:  # no sum(): newer Pythons compensate, C++'s accumulate does not
        total += v
        squares += v * v
    mean = total / n
    if n < 3:
        median = mean
    else:
        ordered = sorted(values)
        middle = ordered[n // 2]
        median = middle if n % 2 else (middle + ordered[n // 2 - 1]) / 2.0
    if n == 1:
        stddev = 0.0
    else:
        variance = n / (n - 1.0) * (squares * (1.0 / n) - mean * mean)
        stddev = math.sqrt(variance) if variance > 0.0 else 0.0
    if n < 2:
        cv = 0.0
    elif mean == 0.0:
        cv = math.inf if stddev > 0.0 else math.nan
    else:
        cv = stddev / mean
    return {"median": float(median), "mean": mean, "stddev": stddev, "cv": cv}


def _runs(entries):
    """{run_name: (iteration entries, aggregate entries)} in order of first appearance."""
    runs = {}
    for entry in entries:
        iterations, aggregates = runs.setdefault(entry["run_name"], ([], []))
        (iterations if entry["run_type"] == "iteration" else aggregates).append(entry)
    return runs


def _succeeded(iterations):
    """The repetitions that did not fail (Google Benchmark's error_occurred)."""
    return [e for e in iterations if not e.get("error_occurred")]


def _counter_values(entries):
    """{counter: [its value in each entry]}, counters in order of first appearance."""
    values = {}
    for entry in entries:
        for name, value in counters_of(entry).items():
            values.setdefault(name, []).append(value)
    return values


def add_aggregates(doc):
    """Append median, mean, stddev and cv entries for every run that has iterations but
    no aggregates, as Google Benchmark 1.7.1 writes them (none for a run with fewer than
    two successful repetitions, as it does). Returns doc, changed in place."""
    for iterations, aggregates in list(_runs(doc["benchmarks"]).values()):
        succeeded = _succeeded(iterations)
        if iterations and not aggregates and len(succeeded) >= 2:
            doc["benchmarks"].extend(_aggregate_entries(iterations, succeeded))
    return doc


def _aggregate_entries(iterations, succeeded):
    """The four aggregate entries of one run, built like Google Benchmark's ComputeStats."""
    first = iterations[0]
    samples = {}
    for key in ("real_time", "cpu_time"):
        if all(key in e for e in succeeded):
            samples[key] = [e[key] for e in succeeded]
    counters = _counter_values(succeeded)
    stats = {key: statistics(values) for key, values in samples.items()}
    counter_stats = {name: statistics(counters[name]) for name in sorted(counters)}
    labels = {e.get("label", "") for e in iterations}
    label = labels.pop() if len(labels) == 1 else ""

    entries = []
    for aggregate in AGGREGATE_ORDER:
        entry = {"name": f'{first["run_name"]}_{aggregate}'}
        for key in ("family_index", "per_family_instance_index"):
            if key in first:
                entry[key] = first[key]
        entry.update({
            "run_name": first["run_name"],
            "run_type": "aggregate",
            "repetitions": first.get("repetitions", len(iterations)),
            "threads": first.get("threads", 1),
            "aggregate_name": aggregate,
            "aggregate_unit": "percentage" if aggregate == "cv" else "time",
            "iterations": len(iterations),
        })
        for key, s in stats.items():
            entry[key] = s[aggregate]
        entry["time_unit"] = first.get("time_unit", "ns")
        for name, s in counter_stats.items():
            entry[name] = s[aggregate]
        if label:
            entry["label"] = label
        entries.append(entry)
    return entries


def _entry_order(entry):
    """Sort key: by run name, repetitions by index, then the aggregates in AGGREGATE_ORDER."""
    if entry["run_type"] == "iteration":
        return (entry["run_name"], 0, entry.get("repetition_index", 0), "")
    name = entry["aggregate_name"]
    rank = AGGREGATE_ORDER.index(name) if name in AGGREGATE_ORDER else len(AGGREGATE_ORDER)
    return (entry["run_name"], 1, rank, name)


def sort_entries(doc):
    """Sort the entries as the format doc orders them. Returns doc, changed in place."""
    doc["benchmarks"].sort(key=_entry_order)
    return doc


# Keys of a child's context.greenbench that hold for the whole file: the peers' versions.
# Its other keys (the peer's name, GOMAXPROCS, GOGC, its isolation) describe that entry
# only and never reach the file-wide context.
PEER_VERSION_KEYS = ("go_version", "python_version", "python_implementation")


def merge_child(doc, part, entry_name, run_names=None):
    """Adds to doc, in place, the document a child wrote for one entry: its entries (whose
    runs must be exactly run_names, by default [entry_name]: ResultsError otherwise), Google
    Benchmark's context keys
    doc lacks, the peers' versions (PEER_VERSION_KEYS), and its warnings under
    context.greenbench.entry_warnings ({warning: [entry names]}), so that one a hundred
    children repeat (an unknown governor) reads once, with the entries that said it."""
    names = sorted({e.get("run_name", e.get("name")) for e in part.get("benchmarks", [])})
    wanted = sorted(run_names or [entry_name])
    if names != wanted:
        raise ResultsError(f"{entry_name}: the child wrote {', '.join(map(str, names)) or 'no entry'}, "
                           f"not {', '.join(wanted)}")
    context = doc["context"]
    child = part.get("context", {})
    for key, value in child.items():
        if key != "greenbench":
            context.setdefault(key, value)
    ours = context.setdefault("greenbench", {})
    theirs = child.get("greenbench", {})
    for key in PEER_VERSION_KEYS:
        if key in theirs:
            ours.setdefault(key, theirs[key])
    said = ours.setdefault("entry_warnings", {})
    for warning in theirs.get("warnings", []):
        entries = said.setdefault(warning, [])
        if entry_name not in entries:
            entries.append(entry_name)
    runs = {}  # a run measured again replaces every entry of the earlier one
    for entries in (doc["benchmarks"], part["benchmarks"]):
        for run_name, (iterations, aggregates) in _runs(entries).items():
            runs[run_name] = copy.deepcopy(iterations + aggregates)
    doc["benchmarks"] = [entry for entries in runs.values() for entry in entries]


def concat_repetitions(docs):
    """One document from several that each measured some repetitions of the same runs
    (one process per repetition): the first context, every iteration entry in the order
    given, each run's `repetitions` set to the count and `repetition_index` to its place
    (a process that ran one repetition calls it 0); aggregates are left to add_aggregates."""
    if not docs:
        raise ValueError("concat_repetitions() needs at least one document")
    iterations = [copy.deepcopy(e) for doc in docs for e in doc["benchmarks"]
                  if e.get("run_type") == "iteration"]
    counts = {}
    for e in iterations:
        e["repetition_index"] = counts.get(e["run_name"], 0)
        counts[e["run_name"]] = e["repetition_index"] + 1
    for e in iterations:
        e["repetitions"] = counts[e["run_name"]]
    return {"context": copy.deepcopy(docs[0]["context"]), "benchmarks": iterations}


def write_atomic(doc, path):
    """Write doc as JSON to path through a temporary file in the same folder and a
    rename, so a reader or a crash sees the old file or the whole new one. NaN and
    infinities are written as the bare tokens Google Benchmark writes."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, allow_nan=True, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@dataclass
class Figure:
    """One counter of one run over its repetitions."""
    median: float
    mean: float
    stddev: float
    cv: float                # a fraction, as Google Benchmark writes it
    values: list = field(default_factory=list)  # per repetition; empty if the file kept aggregates only

    @property
    def indistinguishable_from_zero(self):
        """True where the figure cannot be told from zero: its median is not above zero,
        or its repetitions reach zero or below (a delta of system-wide counters, say).
        Such a figure has no meaningful cv and is no base for a ratio."""
        return self.median <= 0 or (len(self.values) >= 2 and min(self.values) <= 0)


@dataclass
class RunSummary:
    """What a reader needs of one run: its counters' statistics, labels and errors."""
    run_name: str
    repetitions: int
    label: str               # the run's label: one all its repetitions share, else ''
    figures: dict            # counter name -> Figure
    errors: list             # error messages of failed repetitions
    labels: list = field(default_factory=list)  # each repetition's label ('' for none)


def summarize(doc):
    """{run_name: RunSummary}, sorted by run name. Statistics come from the file's
    aggregates where it has all four, else are computed from its repetitions."""
    summaries = {}
    for run_name, (iterations, aggregates) in sorted(_runs(doc["benchmarks"]).items()):
        succeeded = _succeeded(iterations)
        by_aggregate = {e["aggregate_name"]: e for e in aggregates}
        values = _counter_values(succeeded)
        names = list(values)
        for entry in aggregates:
            names += [name for name in counters_of(entry) if name not in names]
        figures = {}
        for name in names:
            if all(name in by_aggregate.get(a, {}) for a in AGGREGATE_ORDER):
                stats = {a: by_aggregate[a][name] for a in AGGREGATE_ORDER}
            elif values.get(name):
                stats = statistics(values[name])
            else:
                continue
            figures[name] = Figure(values=values.get(name, []), **stats)
        first = (iterations or aggregates)[0]
        labelled = by_aggregate.get("median") or (succeeded or iterations or aggregates)[0]
        summaries[run_name] = RunSummary(
            run_name=run_name,
            repetitions=first.get("repetitions", len(iterations)),
            label=labelled.get("label", ""),
            figures=figures,
            errors=[e.get("error_message", "error") for e in iterations if e.get("error_occurred")],
            labels=[e.get("label", "") for e in iterations],
        )
    return summaries


def select(summaries, pattern):
    """The summaries whose run name matches a glob (`*` also matches `/`)."""
    return [s for name, s in summaries.items() if fnmatch.fnmatchcase(name, pattern)]


def host_of(doc):
    """The host a document was measured on: context.greenbench.host, else Google
    Benchmark's host_name, else 'unknown host'."""
    context = doc["context"]
    return context.get("greenbench", {}).get("host") or context.get("host_name") or "unknown host"


@dataclass(frozen=True)
class Name:
    """A run name taken apart: workload/runtime[/runtime params][/workload params]."""
    workload: str
    runtime: str
    runtime_params: tuple    # ((key, value), ...)
    workload_params: tuple

    def param(self, key):
        """The value of a workload or runtime parameter, or None."""
        for k, v in self.workload_params + self.runtime_params:
            if k == key:
                return v
        return None

    @property
    def config(self):
        """The runtime with its parameters, e.g. 'fiber workers:4'."""
        return " ".join([self.runtime] + [f"{k}:{v}" for k, v in self.runtime_params])

    @property
    def case(self):
        """The workload parameters, e.g. 'mode:sequential n:1000' ('' when none)."""
        return " ".join(f"{k}:{v}" for k, v in self.workload_params)


def with_runtime_param(run_name, key, value):
    """run_name with key:value added after its runtime parameters:
    ('create/std_thread/mode:sequential/n:10', 'cpuset', 1) -> 'create/std_thread/cpuset:1/mode:sequential/n:10'."""
    name = parse_name(run_name)
    params = name.runtime_params + ((key, str(value)),) + name.workload_params
    return "/".join([name.workload, name.runtime] + [f"{k}:{v}" if v else k for k, v in params])


def with_runtime_param_in_doc(doc, key, value):
    """The results document `doc` (changed in place) with key:value added to every
    entry's name and run_name, as with_runtime_param does."""
    for entry in doc.get("benchmarks", []):
        run_name = entry.get("run_name", entry["name"])
        renamed = with_runtime_param(run_name, key, value)
        entry["name"] = renamed + entry["name"][len(run_name):]
        entry["run_name"] = renamed
    return doc


def parse_name(run_name):
    """Name of a run name; segments without ':' past the runtime count as workload params."""
    workload, _, rest = run_name.partition("/")
    runtime, _, rest = rest.partition("/")
    params = [tuple(p.split(":", 1)) if ":" in p else (p, "") for p in rest.split("/") if p]
    allowed = list(RUNTIME_PARAMETERS.get(runtime, ()))
    split = 0
    while split < len(params) and params[split][0] in allowed:
        allowed.remove(params[split][0])
        split += 1
    return Name(workload, runtime, tuple(params[:split]), tuple(params[split:]))
